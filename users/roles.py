"""Staff roles, what each may do, and the staff areas they see.

A role is a Django group whose permissions are declared here and synced
after every migration (and by `manage.py sync_roles`). Views check
permissions, never role names, so a custom group with the same permissions
works too. Each area's navigation entry shows only to users holding its
permission; the role matrix test walks every role against every area.
"""

from dataclasses import dataclass, field

from django.apps import apps as django_apps

from core.audit import actor_of


@dataclass(frozen=True)
class Role:
    key: str
    label: str
    description: str
    permissions: tuple[str, ...]
    requires_two_factor: bool = False


@dataclass(frozen=True)
class Area:
    """A staff work area: one navigation entry guarded by one permission."""

    key: str
    label: str
    url_name: str
    permission: str
    description: str
    section: str = "Work"
    extra_urls: tuple[str, ...] = field(default_factory=tuple)


# What every staff role may do: read customers and loans, use the calculators.
_EVERY_STAFF = ("customers.view_customer", "users.use_calculators", "servicing.view_loan")
_SERVICING = (
    "servicing.post_payment",
    "servicing.reverse_payment",
    "servicing.assess_fee",
    "servicing.modify_loan",
    "servicing.refund_credit",
    "servicing.import_files",
)
_MANAGEMENT = (*_SERVICING, "servicing.approve_modification", "servicing.charge_off_loan")
_ORIGINATION_MANAGEMENT = (
    "origination.view_application",
    "origination.underwrite_application",
    "origination.approve_above_limit",
    "origination.disburse_application",
    "origination.manage_products",
)
_CUSTOMER_WRITE = (*_EVERY_STAFF, "customers.add_customer", "customers.change_customer")

ROLES: dict[str, Role] = {
    "loan_officer": Role(
        "loan_officer",
        "Loan officer",
        "Takes applications and looks after applicants.",
        (
            *_CUSTOMER_WRITE,
            "users.access_origination",
            "origination.view_application",
            "origination.disburse_application",
        ),
    ),
    "underwriter": Role(
        "underwriter",
        "Underwriter",
        "Decides applications; may see full tax ids, dates of birth and bureau reports.",
        (
            *_EVERY_STAFF,
            "customers.reveal_tax_id",
            "customers.reveal_date_of_birth",
            "origination.reveal_bureau_report",
            "users.access_origination",
            "origination.review_compliance",
            "origination.view_application",
            "origination.underwrite_application",
        ),
    ),
    "servicing_agent": Role(
        "servicing_agent",
        "Servicing agent",
        "Posts payments and handles borrower requests on funded loans.",
        (*_CUSTOMER_WRITE, "users.access_servicing", *_SERVICING),
    ),
    "collections_agent": Role(
        "collections_agent",
        "Collections agent",
        "Works delinquent accounts within contact rules.",
        (*_EVERY_STAFF, "users.access_collections", "servicing.post_payment"),
    ),
    "manager": Role(
        "manager",
        "Manager",
        "Oversees every area, approves exceptions, reads the audit log.",
        (
            *_CUSTOMER_WRITE,
            "customers.reveal_tax_id",
            "customers.reveal_date_of_birth",
            "origination.reveal_bureau_report",
            "users.access_origination",
            "users.access_servicing",
            "users.access_collections",
            "users.access_reporting",
            "origination.review_compliance",
            *_ORIGINATION_MANAGEMENT,
            "core.view_auditevent",
            "core.change_businessdate",
            *_MANAGEMENT,
        ),
        requires_two_factor=True,
    ),
    "administrator": Role(
        "administrator",
        "Administrator",
        "Configures the platform, manages staff users and API keys.",
        (
            *_CUSTOMER_WRITE,
            "customers.reveal_tax_id",
            "customers.reveal_date_of_birth",
            "origination.reveal_bureau_report",
            "users.access_origination",
            "users.access_servicing",
            "users.access_collections",
            "users.access_reporting",
            "origination.review_compliance",
            *_ORIGINATION_MANAGEMENT,
            "core.view_auditevent",
            "core.change_businessdate",
            "users.manage_users",
            "users.manage_api_keys",
            # servicing product settings (servicing.services.products, Django admin)
            "servicing.view_servicingproduct",
            "servicing.add_servicingproduct",
            "servicing.change_servicingproduct",
            *_MANAGEMENT,
        ),
        requires_two_factor=True,
    ),
}

# Staff areas in navigation order. Later issues add origination, servicing,
# collections and reporting areas here as their pages land.
AREAS: tuple[Area, ...] = (
    Area(
        "customers",
        "Customers",
        "customers:list",
        "customers.view_customer",
        "Search, open and maintain borrowers and businesses.",
    ),
    Area(
        "loans",
        "Loans",
        "servicing:loan-list",
        "servicing.view_loan",
        "Funded loans: balances, schedule, payments, ledger and life events.",
    ),
    Area(
        "calculator",
        "Loan calculator",
        "origination:calculator",
        "users.use_calculators",
        "Schedules, totals and Truth in Lending figures for any terms.",
        section="Tools",
    ),
    Area(
        "apr_calculator",
        "APR calculator",
        "origination:apr-calculator",
        "users.use_calculators",
        "Verify an APR by Regulation Z Appendix J for any advances and payments.",
        section="Tools",
    ),
    Area(
        "applications",
        "Applications",
        "origination:application-board",
        "origination.view_application",
        "The pipeline by state: take, follow and fund applications.",
    ),
    Area(
        "underwriting",
        "Underwriting queue",
        "origination:underwriting-queue",
        "origination.underwrite_application",
        "Referred and conditionally approved applications, oldest first.",
    ),
    Area(
        "compliance",
        "Compliance review",
        "origination:compliance-queue",
        "origination.review_compliance",
        "Sanctions screening hits to clear or confirm, with the reason.",
    ),
    Area(
        "products",
        "Loan products",
        "origination:product-list",
        "origination.manage_products",
        "Products, limits, fees, pricing grid, rules and scorecard; every edit is a new version.",
        section="Administration",
    ),
    Area(
        "modification_approvals",
        "Modification approvals",
        "servicing:modification-approvals",
        "servicing.approve_modification",
        "Loan modifications above the limit, waiting for a second person.",
        section="Operations",
    ),
    Area(
        "service_requests",
        "Service requests",
        "servicing:service-requests",
        "servicing.modify_loan",
        "Borrowers' help requests (hardship, modification, other) to assign and resolve.",
        section="Operations",
    ),
    Area(
        "ach_files",
        "ACH files and imports",
        "servicing:ach-files",
        "servicing.import_files",
        "Autopay NACHA files, ACH returns, payment and boarding imports.",
        section="Operations",
    ),
    Area(
        "business_date",
        "Business date",
        "business-date",
        "core.change_businessdate",
        "See and advance the platform's business date.",
        section="Operations",
    ),
    Area(
        "audit",
        "Audit log",
        "audit-log",
        "core.view_auditevent",
        "Who did what, when, from where.",
        section="Operations",
    ),
    Area(
        "users",
        "Staff users",
        "users:staff-list",
        "users.manage_users",
        "Create staff users, assign roles, reset two-factor.",
        section="Administration",
    ),
    Area(
        "api_keys",
        "API keys",
        "users:api-keys",
        "users.manage_api_keys",
        "Issue and revoke integrators' API keys and scopes.",
        section="Administration",
    ),
)


def role_of(user) -> str | None:
    if actor_of(user) is None:
        return None
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = list(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        cached = names[0] if names else ""
        user._role_cache = cached
    return cached or None


def areas_for(user) -> list[Area]:
    if not (user.is_authenticated and getattr(user, "is_staff_member", False)):
        return []
    return [area for area in AREAS if user.has_perm(area.permission)]


def _permission(label: str):
    """The Permission for "app_label.codename". None while that app has no
    models yet (a role may name permissions of an area still to land); a
    misspelt codename of an existing app is an error."""
    Permission = django_apps.get_model("auth", "Permission")
    ContentType = django_apps.get_model("contenttypes", "ContentType")
    app_label, codename = label.split(".", 1)
    if not ContentType.objects.filter(app_label=app_label).exists():
        return None
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def sync_roles() -> None:
    """Create each role's group and set exactly its declared permissions."""
    from django.contrib.auth.management import create_permissions

    for app_config in django_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    Group = django_apps.get_model("auth", "Group")
    for role in ROLES.values():
        group, _ = Group.objects.get_or_create(name=role.key)
        perms = [_permission(label) for label in role.permissions]
        group.permissions.set([p for p in perms if p is not None])


def sync_roles_after_migrate(sender, **kwargs) -> None:
    sync_roles()
