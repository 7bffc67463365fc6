"""URL patterns of servicing, mounted by lending/urls.py. Each page or API
module declares its own pattern lists; this file only joins them."""

from servicing.api import boarding as api_boarding
from servicing.api import chargeoff as api_chargeoff
from servicing.api import closing as api_closing
from servicing.api import documents as api_documents
from servicing.api import fees as api_fees
from servicing.api import imports as api_imports
from servicing.api import loans as api_loans
from servicing.api import modifications as api_modifications
from servicing.api import notes as api_notes
from servicing.api import payments as api_payments
from servicing.api import payoff as api_payoff
from servicing.api import portal as api_portal
from servicing.api import requests as api_requests
from servicing.api import statements as api_statements
from servicing.views import (
    autopay,
    chargeoff,
    closing,
    fees,
    imports,
    loans,
    modifications,
    payoff,
    portal,
    statements,
)
from servicing.views import requests as request_views

staff_patterns: list = [
    *loans.staff_patterns,
    *payoff.staff_patterns,
    *modifications.staff_patterns,
    *chargeoff.staff_patterns,
    *closing.staff_patterns,
    *fees.staff_patterns,
    *statements.staff_patterns,
    *autopay.staff_patterns,
    *imports.staff_patterns,
    *request_views.staff_patterns,
]
portal_patterns: list = [*portal.portal_patterns, *request_views.portal_patterns]
api_patterns: list = [
    *api_loans.api_patterns,
    *api_boarding.api_patterns,
    *api_payments.api_patterns,
    *api_payoff.api_patterns,
    *api_fees.api_patterns,
    *api_chargeoff.api_patterns,
    *api_statements.api_patterns,
    *api_notes.api_patterns,
    *api_documents.api_patterns,
    *api_modifications.api_patterns,
    *api_closing.api_patterns,
    *api_imports.api_patterns,
    *api_requests.api_patterns,
    *api_portal.api_patterns,
]
