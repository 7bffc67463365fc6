"""Demo origination data: products, the sample sanctions list and
applications in every state, built through the real services.

`load_demo_applications()` seeds the default loan product (on the demo
servicing product "personal"), imports the bundled OFAC SDN sample, and
walks one application per story to its state with the same services the
pages and the API use:

============================  =================================================
draft                         started, not submitted
submitted                     submitted with ``decide=False`` (the automatic
                              decision normally runs at once)
returned                      submitted, then returned for a pay stub
in_underwriting               referred: recent delinquencies (tax id ...0004)
in_underwriting (sanctions)   "John Smith", a potential SDN match waiting in
                              the compliance review queue
conditionally_approved        referred, then approved with an open condition
approved                      clean file (tax id ...9999), offers made
declined                      bankruptcy (tax id ...0003), adverse action PDF
offer_accepted                approved, the 36-month offer accepted
documents_signed              accepted, bank account on file, e-signed
disbursed                     signed and funded: boarded as a servicing loan
withdrawn                     withdrawn by the applicant
expired                       a draft past its validity, expired
============================  =================================================

The portal demo borrower (customers.demo) gets an approved application with
offers to look at, and a draft.

Idempotent: each story is keyed on the application's idempotency key
"demo-orig-<story>"; a story whose application exists is left alone, so a
second run adds nothing. The applicants are found again by tax id.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from core import context
from core.businessdate import get_business_date
from core.exceptions import ValidationFailed
from customers import services as customer_services
from customers.demo import create_demo_borrower
from customers.models import Customer
from customers.tax_ids import tax_id_hash
from origination.models import Application, ApplicationState, LoanProduct, SanctionsList
from origination.selectors.closing import signing_package
from origination.services import applications as app_services
from origination.services import closing, kyc, underwriting
from origination.services import disbursement as disbursing
from origination.services.products import DEFAULT_PRODUCT_CODE, seed_default_products
from users.models import User

S = ApplicationState
KEY_PREFIX = "demo-orig-"
SAMPLE_SDN = Path(__file__).resolve().parent / "data" / "sdn_sample"
DEMO_ROUTING = "011000015"
DEMO_ACCOUNT = "123456789"
CONSENT_VERSION = "2026-01"
CREDIT_PULL_TEXT = (
    "I authorize the lender to obtain my consumer credit report to evaluate this application."
)
E_RECORDS_TEXT = "I agree to receive disclosures and sign documents electronically."


@dataclass(frozen=True)
class DemoApplicant:
    first_name: str
    last_name: str
    tax_id: str  # the simulated bureau reads the last four digits
    date_of_birth: date
    city: str
    state: str
    postal_code: str
    line1: str


APPLICANTS = {
    "clean_1": DemoApplicant(
        "Grace",
        "Whitfield",
        "412-62-9999",
        date(1982, 2, 9),
        "Austin",
        "TX",
        "78701",
        "118 Congress Ave",
    ),
    "clean_2": DemoApplicant(
        "Marcus",
        "Lindqvist",
        "412-61-9999",
        date(1979, 7, 23),
        "Denver",
        "CO",
        "80202",
        "1550 Larimer St",
    ),
    "clean_3": DemoApplicant(
        "Ana",
        "Beltran",
        "412-64-9999",
        date(1990, 11, 2),
        "Phoenix",
        "AZ",
        "85004",
        "20 E Roosevelt St",
    ),
    "clean_4": DemoApplicant(
        "Peter",
        "Okonjo",
        "412-67-9999",
        date(1985, 5, 17),
        "Chicago",
        "IL",
        "60601",
        "233 N Michigan Ave",
    ),
    "clean_5": DemoApplicant(
        "Helen",
        "Strand",
        "412-72-9999",
        date(1976, 8, 30),
        "Seattle",
        "WA",
        "98101",
        "1420 5th Ave",
    ),
    "clean_6": DemoApplicant(
        "Victor",
        "Amari",
        "412-63-9999",
        date(1992, 1, 14),
        "Atlanta",
        "GA",
        "30303",
        "55 Park Pl NE",
    ),
    "delinquent_1": DemoApplicant(
        "Rosa",
        "Quintero",
        "412-63-0004",
        date(1987, 3, 5),
        "Miami",
        "FL",
        "33130",
        "801 Brickell Ave",
    ),
    "delinquent_2": DemoApplicant(
        "Tom",
        "Haskell",
        "412-61-0004",
        date(1980, 4, 2),
        "Columbus",
        "OH",
        "43215",
        "41 S High St",
    ),
    "bankrupt": DemoApplicant(
        "Gary",
        "Pruitt",
        "412-61-0003",
        date(1974, 12, 1),
        "Nashville",
        "TN",
        "37203",
        "1 Music Sq W",
    ),
    # a potential match of SDN entry 1001 "SMITH, John" (DOB 12 Mar 1965)
    "sanctions": DemoApplicant(
        "John",
        "Smith",
        "412-70-9999",
        date(1965, 3, 12),
        "Newark",
        "NJ",
        "07102",
        "1 Gateway Ctr",
    ),
}

DEFAULT_TERMS = {
    "requested_amount": Decimal("12000.00"),
    "requested_term": 36,
    "purpose": "debt_consolidation",
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": 60,
    "gross_monthly_income": Decimal("12000.00"),
    "housing_status": "rent",
    "housing_cost": Decimal("1600.00"),
    "other_obligations": Decimal("0.00"),
}


def demo_applicant(key: str) -> Customer:
    """The demo applicant `key`, created on the first run, found by tax id after."""
    spec = APPLICANTS[key]
    digits = spec.tax_id.replace("-", "")
    found = Customer.objects.filter(tax_id_hash=tax_id_hash(digits, Customer.TaxIdType.SSN)).first()
    if found is not None:
        return found
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "date_of_birth": spec.date_of_birth,
            "tax_id_type": "ssn",
            "tax_id": spec.tax_id,
            "email": f"{spec.first_name}.{spec.last_name}@example.com".lower(),
        },
        addresses=[
            {
                "kind": "residential",
                "line1": spec.line1,
                "city": spec.city,
                "state": spec.state,
                "postal_code": spec.postal_code,
            }
        ],
    )


def _staff(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _start(story: str, applicant: Customer, product: LoanProduct, **overrides) -> Application:
    data = {**DEFAULT_TERMS, **overrides}
    channel = data.pop("channel", "staff")
    application = app_services.start_application(
        applicant=applicant,
        product=product,
        channel=channel,
        data=data,
        acting_user=_staff("officer") if channel == "staff" else None,
        idempotency_key=KEY_PREFIX + story,
    )
    for kind, text in (("credit_pull", CREDIT_PULL_TEXT), ("e_records", E_RECORDS_TEXT)):
        app_services.record_consent(
            application,
            kind=kind,
            wording_version=CONSENT_VERSION,
            text=text,
            ip="203.0.113.10",
            user_agent="load_demo",
        )
    return application


def _submitted(story, applicant, product, *, decide=True, **overrides) -> Application:
    application = _start(story, applicant, product, **overrides)
    application = app_services.submit(application, decide=decide)
    application.refresh_from_db()
    return application


def _approved(story, applicant, product, **overrides) -> Application:
    """Submitted and approved: automatically for a clean file, else by the
    manager (who may approve any amount) at the grid rate or 14.99 %."""
    application = _submitted(story, applicant, product, **overrides)
    if application.state == S.IN_UNDERWRITING:
        manager = _staff("manager")
        try:
            application = underwriting.approve(application, manager, note="Demo approval")
        except ValidationFailed:  # the grid cannot price this score: give a rate
            application = underwriting.approve(
                application, manager, note="Demo approval", annual_rate=Decimal("0.1499")
            )
        application.refresh_from_db()
    if application.state != S.APPROVED:
        raise RuntimeError(
            f"demo story {story}: expected approval, got {application.state} "
            f"{application.decision_reasons}"
        )
    return application


def _accepted(story, applicant, product, **overrides) -> Application:
    application = _approved(story, applicant, product, **overrides)
    offers = closing.make_offers(application=application)
    closing.accept_offer(application=application, offer_id=offers[0].pk)
    application.refresh_from_db()
    return application


def _signed(story, applicant, product, **overrides) -> Application:
    application = _accepted(story, applicant, product, **overrides)
    disbursing.set_bank_account(
        application=application,
        routing_number=DEMO_ROUTING,
        account_number=DEMO_ACCOUNT,
        account_type="checking",
    )
    package = signing_package(application)
    customer = application.applicant
    closing.sign_documents(
        application=application,
        typed_name=f"{customer.first_name} {customer.last_name}",
        ip="203.0.113.10",
        user_agent="load_demo",
        shown_sha256=package.sha256,
    )
    application.refresh_from_db()
    return application


# --- the stories -----------------------------------------------------------------


def _draft(product):
    return _start("draft", demo_applicant("clean_1"), product, requested_amount=Decimal("5000.00"))


def _submitted_only(product):
    return _submitted(
        "submitted", demo_applicant("clean_2"), product, decide=False, channel="portal"
    )


def _returned(product):
    application = _submitted("returned", demo_applicant("clean_3"), product, decide=False)
    return app_services.return_for_info(
        application,
        "Please upload your two most recent pay stubs.",
        acting_user=_staff("underwriter"),
    )


def _referred(product):
    return _submitted("in-underwriting", demo_applicant("delinquent_1"), product)


def _sanctions(product):
    return _submitted("sanctions-review", demo_applicant("sanctions"), product, channel="portal")


def _conditional(product):
    application = _submitted(
        "conditionally-approved",
        demo_applicant("delinquent_2"),
        product,
        requested_amount=Decimal("8000.00"),
    )
    return underwriting.approve_conditionally(
        application,
        _staff("underwriter"),
        conditions=["Proof of income: two recent pay stubs", "Explain the two late payments"],
        note="Recent delinquencies; income to be verified.",
    )


def _approved_story(product):
    application = _approved(
        "approved",
        demo_applicant("clean_4"),
        product,
        channel="portal",
        requested_amount=Decimal("15000.00"),
        requested_term=48,
    )
    closing.make_offers(application=application)
    return application


def _declined(product):
    return _submitted("declined", demo_applicant("bankrupt"), product, channel="portal")


def _offer_accepted(product):
    return _accepted(
        "offer-accepted", demo_applicant("clean_5"), product, requested_amount=Decimal("9000.00")
    )


def _documents_signed(product):
    return _signed(
        "documents-signed",
        demo_applicant("clean_6"),
        product,
        channel="portal",
        requested_amount=Decimal("7500.00"),
        requested_term=24,
    )


def _disbursed(product):
    application = _signed(
        "disbursed",
        demo_applicant("clean_1"),
        product,
        requested_amount=Decimal("20000.00"),
        requested_term=60,
    )
    return disbursing.disburse(application=application, user=_staff("manager"))


def _withdrawn(product):
    application = _start("withdrawn", demo_applicant("clean_2"), product, channel="portal")
    return app_services.withdraw(application, "Found a lower rate elsewhere.")


def _expired(product):
    application = _start("expired", demo_applicant("clean_3"), product, channel="portal")
    # backdate its validity (as if started long ago); end of day expires it
    today = get_business_date()
    Application.objects.filter(pk=application.pk).update(expires_on=today - timedelta(days=1))
    app_services.expire_stale(today)
    application.refresh_from_db()
    return application


def _borrower_approved(product):
    borrower = create_demo_borrower()
    application = _approved(
        "borrower-approved",
        borrower,
        product,
        channel="portal",
        requested_amount=Decimal("6000.00"),
        requested_term=24,
        purpose="home_improvement",
    )
    if application.state == S.APPROVED:
        closing.make_offers(application=application)
    return application


def _borrower_draft(product):
    return _start(
        "borrower-draft",
        create_demo_borrower(),
        product,
        channel="portal",
        requested_amount=Decimal("3000.00"),
        requested_term=12,
        purpose="major_purchase",
    )


STORIES = (
    ("draft", _draft),
    ("submitted", _submitted_only),
    ("returned", _returned),
    ("in-underwriting", _referred),
    ("sanctions-review", _sanctions),
    ("conditionally-approved", _conditional),
    ("approved", _approved_story),
    ("declined", _declined),
    ("offer-accepted", _offer_accepted),
    ("documents-signed", _documents_signed),
    ("disbursed", _disbursed),
    ("withdrawn", _withdrawn),
    ("expired", _expired),
    ("borrower-approved", _borrower_approved),
    ("borrower-draft", _borrower_draft),
)


def load_demo_products() -> list[LoanProduct]:
    """The default loan products (on servicing product "personal", which the
    caller makes sure exists: servicing.demo.demo_product) and the sample
    sanctions list (imported once)."""
    products = seed_default_products()
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN, source="OFAC SDN sample (bundled demo data)")
    return products


def load_demo_applications() -> list[Application]:
    """Applications in every state (see the module docstring); returns the
    demo applications, one per story. Idempotent."""
    with context.system_actor("demo"):
        load_demo_products()
        product = LoanProduct.objects.get(code=DEFAULT_PRODUCT_CODE, is_active=True)
        result = []
        for story, build in STORIES:
            existing = Application.objects.filter(idempotency_key=KEY_PREFIX + story).first()
            if existing is not None:
                result.append(existing)
                continue
            with transaction.atomic():
                result.append(build(product))
    return result
