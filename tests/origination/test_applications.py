"""Applications through the real services: start, edit, consents, submit,
return, resubmit, withdraw, expire, assign; every refusal is a 409 naming
the state, every transition is audited and on the timeline."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from customers import services as customer_services
from origination.models import (
    Application,
    ApplicationEvent,
    ApplicationState,
    Consent,
    LoanProduct,
)
from origination.services import applications as apps
from origination.services import kyc, products
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = ApplicationState
SAMPLE_SDN = Path(__file__).resolve().parents[2] / "origination" / "data" / "sdn_sample"
ADDRESS = {
    "kind": "residential",
    "line1": "12 St Marks Pl",
    "city": "New York",
    "state": "NY",
    "postal_code": "10003",
}
CLEAN = "401-23-9999"  # simulated bureau: score 820
BANKRUPT = "402-34-0003"  # chapter 7, score 548
DELINQUENT = "403-45-0004"  # recent lates, score 612
THIN = "405-67-0002"  # thin file, no score
TIMEOUT = "912-70-0000"  # an ITIN; the bureau times out

APPLICATION_DATA = {
    "requested_amount": "10000.00",
    "requested_term": 36,
    "purpose": "debt_consolidation",
    "employment_status": "employed",
    "employer": "Analytical Engines LLC",
    "employment_months": 48,
    "gross_monthly_income": "12000.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "0.00",
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path


def person(tax_id, first="Ada", last="Lovelace", dob=date(1985, 12, 10), email=None):
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": first,
            "last_name": last,
            "date_of_birth": dob,
            "tax_id": tax_id,
            "email": email if email is not None else f"{first}.{last}@example.com".lower(),
        },
        addresses=[ADDRESS],
    )


def default_product() -> LoanProduct:
    return products.seed_default_products()[0]


def draft(applicant, product=None, **overrides) -> Application:
    return apps.start_application(
        applicant=applicant,
        product=product or default_product(),
        channel="portal",
        data={**APPLICATION_DATA, **overrides},
    )


def consent_all(app):
    for kind in ("credit_pull", "e_records"):
        apps.record_consent(
            app, kind=kind, wording_version="2025-01", text=f"I agree ({kind}).", ip="203.0.113.9"
        )


def submitted(applicant, product=None, **overrides) -> Application:
    app = draft(applicant, product, **overrides)
    consent_all(app)
    return apps.submit(app)


def import_sample_sdn():
    kyc.import_sdn(files=SAMPLE_SDN)


def transitions(app) -> list[tuple[str, str]]:
    return list(
        ApplicationEvent.objects.filter(application=app)
        .order_by("id")
        .values_list("from_state", "to_state")
    )


def audited(app) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="origination.application", object_id=str(app.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def product():
    return default_product()


@pytest.fixture
def ada():
    return person(CLEAN)


# --- products ------------------------------------------------------------------


def test_default_product_and_pricing_grid(product):
    assert (product.code, product.version, product.min_amount, product.max_amount) == (
        "personal-loan",
        1,
        Decimal("1000.00"),
        Decimal("35000.00"),
    )
    assert product.allowed_terms == [12, 24, 36, 48, 60]
    assert product.fees[0]["treatment"] == "withheld"
    assert products.price_for(product, 820, 36) == Decimal("0.0799")
    assert products.price_for(product, 820, 60) == Decimal("0.0899")
    assert products.price_for(product, 612, 36) == Decimal("0.2699")
    assert products.price_for(product, 550, 36) is None
    assert products.price_for(product, None, 36) is None
    assert products.seed_default_products() == [product]


def test_revising_a_product_keeps_applications_on_their_version(product, ada):
    app = draft(ada, product)
    manager = UserFactory(role="manager")
    revised = products.revise_product(product, {"max_amount": Decimal("40000.00")}, manager)
    product.refresh_from_db()
    assert (revised.version, revised.is_active, revised.max_amount) == (
        2,
        True,
        Decimal("40000.00"),
    )
    assert product.is_active is False
    app.refresh_from_db()
    assert app.product_id == product.pk
    with pytest.raises(Conflict):
        products.revise_product(product, {"name": "stale"}, manager)
    officer = UserFactory(role="loan_officer")
    with pytest.raises(PermissionDenied):
        products.revise_product(revised, {"name": "x"}, officer)
    assert LoanProduct.objects.filter(code=product.code).count() == 2
    assert AuditEvent.objects.filter(action="loan_product.revised").count() == 1


def test_invalid_product_revision_writes_nothing(product):
    with pytest.raises(ValidationFailed) as exc:
        products.revise_product(product, {"min_amount": Decimal("50000.00")})
    assert "max_amount" in exc.value.fields
    assert LoanProduct.objects.count() == 1


# --- start and edit ------------------------------------------------------------


def test_start_application(ada, product):
    app = draft(ada, product)
    assert app.reference == f"APP-{app.pk:08d}"
    assert (app.state, app.channel, app.requested_amount) == (
        S.DRAFT,
        "portal",
        Decimal("10000.00"),
    )
    assert app.expires_on is not None
    assert transitions(app) == [("", "draft")]
    assert audited(app) == ["application.created"]


def test_start_refuses_amount_and_term_outside_the_product(ada, product):
    with pytest.raises(ValidationFailed) as exc:
        draft(ada, product, requested_amount="500.00", requested_term=30)
    assert set(exc.value.fields) == {"requested_amount", "requested_term"}
    assert Application.objects.count() == 0


def test_api_idempotency_key_returns_the_first_application(ada, product):
    first = apps.start_application(
        applicant=ada, product=product, channel="api", data=APPLICATION_DATA, idempotency_key="k-1"
    )
    again = apps.start_application(
        applicant=ada, product=product, channel="api", data=APPLICATION_DATA, idempotency_key="k-1"
    )
    assert again.pk == first.pk
    assert Application.objects.count() == 1


def test_update_draft(ada, product):
    app = draft(ada, product)
    app = apps.update_draft(app, {"requested_amount": "12000.00", "requested_term": 48})
    assert (app.requested_amount, app.requested_term) == (Decimal("12000.00"), 48)
    assert audited(app)[-1] == "application.updated"


# --- submit --------------------------------------------------------------------


def test_submit_without_consents_is_refused_and_writes_nothing(ada, product):
    app = draft(ada, product, gross_monthly_income=None)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        apps.submit(app)
    assert set(exc.value.fields) == {
        "consent_credit_pull",
        "consent_e_records",
        "gross_monthly_income",
    }
    app.refresh_from_db()
    assert (app.state, app.submitted_at) == (S.DRAFT, None)
    assert AuditEvent.objects.count() == before
    assert transitions(app) == [("", "draft")]


def test_consent_is_recorded_once_per_wording(ada, product):
    app = draft(ada, product)
    consent_all(app)
    consent_all(app)
    assert Consent.objects.filter(application=app).count() == 2
    consent = Consent.objects.get(application=app, kind="credit_pull")
    assert (consent.wording_version, consent.ip) == ("2025-01", "203.0.113.9")


def test_submit_without_decision_then_refusals(ada, product):
    app = draft(ada, product)
    consent_all(app)
    app = apps.submit(app, decide=False)
    assert app.state == S.SUBMITTED
    assert app.submitted_at is not None
    # submitting again is a no-op
    assert apps.submit(app, decide=False).state == S.SUBMITTED
    with pytest.raises(Conflict) as exc:
        apps.update_draft(app, {"requested_term": 24})
    assert "submitted" in exc.value.message
    with pytest.raises(Conflict) as exc:
        apps.resubmit(app)
    assert exc.value.message == f"Cannot resubmit application {app.reference}: it is submitted."
    assert transitions(app) == [("", "draft"), ("draft", "submitted")]
    assert audited(app)[-1] == "application.submit"


# --- return, resubmit, withdraw --------------------------------------------------


def test_return_for_info_and_resubmit(ada, product):
    app = draft(ada, product)
    consent_all(app)
    app = apps.submit(app, decide=False)
    with pytest.raises(ValidationFailed):
        apps.return_for_info(app, "  ")
    app = apps.return_for_info(app, "Upload a recent pay stub")
    assert (app.state, app.return_reason) == (S.RETURNED, "Upload a recent pay stub")
    app = apps.update_draft(app, {"gross_monthly_income": "12500.00"})
    app = apps.resubmit(app, decide=False)
    assert (app.state, app.return_reason) == (S.SUBMITTED, "")
    assert transitions(app) == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
    ]
    assert "application.return_for_info" in audited(app)


def test_return_for_info_refused_from_draft(ada, product):
    app = draft(ada, product)
    with pytest.raises(Conflict) as exc:
        apps.return_for_info(app, "Need more")
    assert exc.value.message == (
        f"Cannot return for information application {app.reference}: it is draft."
    )
    assert exc.value.fields == {"state": "draft", "action": "return_for_info"}


def test_withdraw_and_refusals_after_it(ada, product):
    app = draft(ada, product)
    app = apps.withdraw(app, "Found a better rate")
    assert (app.state, app.withdraw_reason) == (S.WITHDRAWN, "Found a better rate")
    assert apps.withdraw(app, "again").state == S.WITHDRAWN  # idempotent
    consent_all_refused = pytest.raises(Conflict)
    with consent_all_refused:
        apps.record_consent(app, kind="privacy", wording_version="1", text="ok")
    with pytest.raises(Conflict) as exc:
        apps.submit(app)
    assert "withdrawn" in exc.value.message
    assert transitions(app) == [("", "draft"), ("draft", "withdrawn")]
    assert audited(app)[-1] == "application.withdraw"


def test_expire_stale(ada, product):
    old = draft(ada, product)
    fresh = draft(ada, product)
    Application.objects.filter(pk=old.pk).update(expires_on=date(2020, 1, 1))
    assert apps.expire_stale(date(2020, 1, 2)) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, fresh.state) == (S.EXPIRED, S.DRAFT)
    assert apps.expire_stale(date(2020, 1, 2)) == 0
    assert transitions(old)[-1] == ("draft", "expired")
    with pytest.raises(Conflict):
        apps.withdraw(old, "too late")


def test_assign(ada, product):
    app = draft(ada, product)
    underwriter = UserFactory(role="underwriter")
    manager = UserFactory(role="manager")
    app = apps.assign(app, underwriter, acting_user=manager)
    assert app.assigned_to_id == underwriter.pk
    assert audited(app)[-1] == "application.assigned"


def test_end_of_day_expires_stale_applications(ada, product):
    from core.eod import run_end_of_day
    from core.models import BusinessDate, EodChunk

    today = date(2026, 6, 1)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": today})
    old = draft(ada, product)
    fresh = draft(ada, product)
    Application.objects.filter(pk=old.pk).update(expires_on=date(2026, 5, 31))

    run = run_end_of_day(today, advance=False)

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, fresh.state) == (S.EXPIRED, S.DRAFT)
    chunk = EodChunk.objects.get(run=run, step="expire_applications")
    assert chunk.counts == {"expired": 1}
