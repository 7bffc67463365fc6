"""Building approved applications for the closing tests through the real
services: a servicing product, a loan product on it, an applicant with the
simulated bureau's clean-file identity (tax id ending 9999), the consents,
and a submission that the automatic decision approves."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.models import BusinessDate
from customers import services as customer_services
from origination.models import Application, ApplicationState, SanctionsList
from origination.services import applications as app_services
from origination.services import closing, kyc
from origination.services.products import create_product, default_product_data
from servicing.selectors.ledger import clear_account_cache
from servicing.services.products import create_product as create_servicing_product

TODAY = date(2026, 3, 2)
SAMPLE_SDN = Path(__file__).resolve().parents[2] / "origination" / "data" / "sdn_sample"
ADDRESS = {
    "kind": "residential",
    "line1": "12 St Marks Pl",
    "city": "New York",
    "state": "NY",
    "postal_code": "10003",
}
E_RECORDS_TEXT = "I agree to receive disclosures and sign documents electronically."


def set_business_date(day: date) -> None:
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


@pytest.fixture(autouse=True)
def _closing_env(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clear_account_cache()
    yield
    clear_account_cache()


@pytest.fixture
def servicing_product(db):
    return create_servicing_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
    )


_counter = {"n": 0}


def make_customer(first="Dana", last="Rivera", *, serial: int | None = None):
    _counter["n"] += 1
    serial = serial or _counter["n"]
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": first,
            "last_name": last,
            "date_of_birth": date(1985, 6, 15),
            "tax_id": f"412-{10 + serial % 80:02d}-9999",
            "email": f"{first}.{last}.{serial}@example.com".lower(),
        },
        addresses=[ADDRESS],
    )


def make_loan_product(servicing_product_id, *, code="personal-loan", **overrides):
    return create_product(
        code=code, data={**default_product_data(servicing_product_id), **overrides}
    )


def approved_application(product, *, customer=None, amount="10000.00", term=36) -> Application:
    """An application on `product` approved by the automatic decision."""
    set_business_date(TODAY)
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)  # screening needs a list, else it refers
    customer = customer or make_customer()
    application = app_services.start_application(
        applicant=customer,
        product=product,
        channel="portal",
        data={
            "requested_amount": Decimal(amount),
            "requested_term": term,
            "purpose": "debt_consolidation",
            "employment_status": "employed",
            "employer": "Acme Corp",
            "employment_months": 60,
            "gross_monthly_income": Decimal("25000.00"),
            "housing_status": "rent",
            "housing_cost": Decimal("1500.00"),
            "other_obligations": Decimal("0.00"),
        },
    )
    app_services.record_consent(
        application,
        kind="credit_pull",
        wording_version="2026-01",
        text="I authorize a credit report pull.",
        ip="203.0.113.9",
        user_agent="pytest",
    )
    app_services.record_consent(
        application,
        kind="e_records",
        wording_version="2026-01",
        text=E_RECORDS_TEXT,
        ip="203.0.113.9",
        user_agent="pytest",
    )
    application = app_services.submit(application)  # runs the automatic decision
    application.refresh_from_db()
    assert application.state == ApplicationState.APPROVED, (
        application.state,
        application.decision_reasons,
    )
    return application


def accepted_application(product, **kwargs):
    """Approved, offered, the approved term's offer accepted."""
    application = approved_application(product, **kwargs)
    offers = closing.make_offers(application=application)
    closing.accept_offer(application=application, offer_id=offers[0].pk)
    application.refresh_from_db()
    return application, offers[0]
