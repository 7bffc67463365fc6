"""Nothing from customers is registered in the Django admin, on purpose.

The admin is for configuration (ARCHITECTURE.md). Customer records hold
personal data whose every change must go through customers.services (for
validation and the audit trail) and whose tax ids may only be read through
the audited reveal; the admin's generic forms and list pages would bypass
both. Staff maintain customers at /staff/customers/.
"""
