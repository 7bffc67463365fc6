"""Servicing product settings: validation, the audited update, the effect of
the allocation order on payments, and the admin change form."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from servicing.models import Installment, ServicingProduct
from servicing.services.payments import post_payment
from servicing.services.products import create_product, update_product
from tests.conftest import make_staff
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal

INVALID = [
    ("allocation_order", ["interest", "principal", "fees"], "exactly once"),
    ("allocation_order", ["fees", "fees", "interest", "principal"], "exactly once"),
    ("allocation_order", ["fees", "penalties", "interest", "escrow"], "exactly once"),
    ("allocation_order", "fees,penalties,interest,principal", "exactly once"),
    ("allocation_method", "diagonal", "horizontal, vertical"),
    ("prepayment_mode", "reduce_rate", "reduce_term, reduce_installment"),
    ("excess_default", "refund", "prepayment, unapplied"),
    ("currency", "US", "three-letter ISO 4217"),
    ("currency", "JPY", "not supported"),
    ("late_fee_type", "daily", "flat, percent"),
    ("late_fee_amount", D("-1.00"), "zero or more"),
    ("late_fee_amount", D("1.005"), "whole cents"),
    ("late_fee_percent", D("1.5"), "from 0 to 1"),
    ("late_fee_percent", D("-0.01"), "from 0 to 1"),
    ("late_fee_grace_days", 61, "from 0 to 60"),
    ("late_fee_grace_days", -1, "from 0 to 60"),
    ("late_fee_cap", D("-5.00"), "zero or more"),
    ("nsf_fee_amount", D("-30.00"), "zero or more"),
    ("charge_off_days_past_due", 29, "from 30 to 720"),
    ("charge_off_days_past_due", 721, "from 30 to 720"),
    # 0 is each loan's own due day (issue 13: spread cycle days); 29+ is refused
    ("statement_cycle_day", -1, "from 0 to 28"),
    ("statement_cycle_day", 29, "from 0 to 28"),
    ("day_count", "30/365", "valid day count"),
    ("installment_method", "progressive", "nominal_rate, period_rates, period_rates_adjusted"),
    ("equal_principal_rounding", "dollars", "cents, installment_multiple"),
]
IDS = [f"{name}={value!r}" for name, value, _ in INVALID]


def grant_change(user):
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="servicing", codename="change_servicingproduct"
        )
    )
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


@pytest.fixture
def admin_user(db):
    return grant_change(make_staff("administrator"))


@pytest.mark.parametrize(("field", "value", "message"), INVALID, ids=IDS)
def test_update_refuses_each_invalid_setting_and_writes_nothing(
    product, admin_user, field, value, message
):
    product.refresh_from_db()
    before = {f.attname: getattr(product, f.attname) for f in ServicingProduct._meta.fields}
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        update_product(product, changes={"name": "Renamed", field: value}, acting_user=admin_user)
    assert set(caught.value.fields) == {field}
    assert message in caught.value.fields[field][0]
    product.refresh_from_db()
    assert {f.attname: getattr(product, f.attname) for f in ServicingProduct._meta.fields} == before
    assert product.name == "Personal installment loan"  # the valid change was not written
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("field", "value", "message"), INVALID, ids=IDS)
def test_create_refuses_each_invalid_setting_and_writes_nothing(field, value, message):
    with pytest.raises(ValidationFailed) as caught:
        create_product(code="bad", name="Bad", **{field: value})
    assert message in caught.value.fields[field][0]
    assert not ServicingProduct.objects.filter(code="bad").exists()
    assert not AuditEvent.objects.filter(action="servicing_product.created").exists()


def test_every_error_is_collected_in_one_failure(product, admin_user):
    with pytest.raises(ValidationFailed) as caught:
        update_product(
            product,
            changes={
                "statement_cycle_day": 31,
                "late_fee_grace_days": 90,
                "currency": "usd1",
                "late_fee_cap": D("-1"),
            },
            acting_user=admin_user,
        )
    assert set(caught.value.fields) == {
        "statement_cycle_day",
        "late_fee_grace_days",
        "currency",
        "late_fee_cap",
    }


def test_valid_update_changes_the_settings_and_audits(product, admin_user):
    updated = update_product(
        product,
        changes={
            "late_fee_type": "percent",
            "late_fee_percent": D("0.05"),
            "late_fee_cap": D("40.00"),
            "late_fee_grace_days": 15,
            "statement_cycle_day": 28,
            "currency": "cad",
            "nsf_fee_amount": D("30.00"),  # unchanged: not audited
        },
        acting_user=admin_user,
    )
    product.refresh_from_db()
    assert updated.pk == product.pk and product.version == 1
    assert (product.late_fee_type, product.late_fee_percent, product.late_fee_cap) == (
        "percent",
        D("0.0500"),
        D("40.00"),
    )
    assert (product.late_fee_grace_days, product.statement_cycle_day) == (15, 28)
    assert product.currency == "CAD"
    event = AuditEvent.objects.get(action="servicing_product.updated")
    assert event.actor_id == admin_user.pk
    assert event.object_id == str(product.pk)
    assert event.changes == {
        "currency": ["USD", "CAD"],
        "late_fee_cap": [None, "40.00"],
        "late_fee_grace_days": [10, 15],
        "late_fee_percent": ["0.0000", "0.05"],
        "late_fee_type": ["flat", "percent"],
        "statement_cycle_day": [1, 28],
    }
    # the cap can be cleared again
    update_product(product, changes={"late_fee_cap": None}, acting_user=admin_user)
    product.refresh_from_db()
    assert product.late_fee_cap is None


def test_update_without_a_change_writes_nothing(product, admin_user):
    update_product(product, changes={"nsf_fee_amount": "30.00"}, acting_user=admin_user)
    assert not AuditEvent.objects.filter(action="servicing_product.updated").exists()


def test_principal_first_order_changes_the_payment_split(product, admin_user, make_loan):
    update_product(
        product,
        changes={"allocation_order": ["principal", "interest", "fees", "penalties"]},
        acting_user=admin_user,
    )
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("50.00"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    loan.refresh_from_db()
    # instalment 1 is 94.62 principal + 12.00 interest: principal first takes all 50
    assert loan.principal_balance == D("1150.00")
    assert loan.interest_balance == D("12.00")
    first = Installment.objects.get(loan=loan, number=1)
    assert (first.principal_paid, first.interest_paid) == (D("50.00"), D("0.00"))


def test_default_order_pays_interest_first(make_loan):
    loan = make_loan()
    set_business_date(date(2026, 2, 15))
    post_payment(
        loan=loan, amount=D("50.00"), received_on=date(2026, 2, 15), method="ach", channel="staff"
    )
    loan.refresh_from_db()
    assert loan.principal_balance == D("1162.00")
    assert loan.interest_balance == D("0.00")


def test_allocation_order_of_a_product_with_loans_is_refused(product, admin_user, make_loan):
    make_loan()
    with pytest.raises(Conflict) as caught:
        update_product(
            product,
            changes={"allocation_order": ["principal", "interest", "fees", "penalties"]},
            acting_user=admin_user,
        )
    assert "allocation_order" in caught.value.fields
    product.refresh_from_db()
    assert product.allocation_order == ["fees", "penalties", "interest", "principal"]
    # settings read only by future events may still change
    update_product(product, changes={"late_fee_amount": D("35.00")}, acting_user=admin_user)
    product.refresh_from_db()
    assert product.late_fee_amount == D("35.00")


@pytest.mark.parametrize("role", ["servicing_agent", "manager"])
def test_user_without_the_permission_is_refused(product, role):
    user = make_staff(role)
    with pytest.raises(PermissionDenied):
        update_product(product, changes={"late_fee_amount": D("99.00")}, acting_user=user)
    with pytest.raises(PermissionDenied):
        create_product(code="other", name="Other", acting_user=user)
    product.refresh_from_db()
    assert product.late_fee_amount == D("25.00")
    assert not ServicingProduct.objects.filter(code="other").exists()
    assert not AuditEvent.objects.filter(action="servicing_product.updated").exists()


def _admin_form(product, **overrides):
    data = {
        "name": product.name,
        "currency": product.currency,
        "interest_method": product.interest_method,
        "amortization": product.amortization,
        "day_count": product.day_count,
        "repayment_every": product.repayment_every,
        "repayment_unit": product.repayment_unit,
        "installment_multiple": product.installment_multiple,
        "rounding": product.rounding,
        # issue 13's schedule conventions are settings of the form too
        "installment_method": product.installment_method,
        "equal_principal_rounding": product.equal_principal_rounding,
        "allocation_order": ", ".join(product.allocation_order),
        "allocation_method": product.allocation_method,
        "prepayment_mode": product.prepayment_mode,
        "excess_default": product.excess_default,
        "late_fee_type": product.late_fee_type,
        "late_fee_amount": product.late_fee_amount,
        "late_fee_percent": product.late_fee_percent,
        "late_fee_grace_days": product.late_fee_grace_days,
        "late_fee_cap": "",
        "nsf_fee_amount": product.nsf_fee_amount,
        "charge_off_days_past_due": product.charge_off_days_past_due,
        "arrears_grace_days": product.arrears_grace_days,
        "statement_cycle_day": product.statement_cycle_day,
        "modification_approval_limit": product.modification_approval_limit,
        "accounts-TOTAL_FORMS": "11",
        "accounts-INITIAL_FORMS": "11",
        "accounts-MIN_NUM_FORMS": "0",
        "accounts-MAX_NUM_FORMS": "1000",
    }
    for n, account in enumerate(product.accounts.order_by("pk")):
        data[f"accounts-{n}-id"] = account.pk
        data[f"accounts-{n}-product"] = product.pk
    data.update(overrides)
    return data


def test_admin_change_form_rejects_an_invalid_allocation_order(product, staff_client):
    client, user = staff_client("administrator")
    grant_change(user)
    url = f"/admin/servicing/servicingproduct/{product.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, _admin_form(product, allocation_order="interest, principal"))
    assert response.status_code == 200
    assert "must list each of fees, penalties, interest, principal exactly once" in (
        response.content.decode()
    )
    product.refresh_from_db()
    assert product.allocation_order == ["fees", "penalties", "interest", "principal"]
    assert not AuditEvent.objects.filter(action="servicing_product.updated").exists()


def test_admin_change_form_saves_through_the_service(product, staff_client):
    client, user = staff_client("administrator")
    grant_change(user)
    url = f"/admin/servicing/servicingproduct/{product.pk}/change/"
    response = client.post(
        url, _admin_form(product, allocation_order="principal, interest, fees, penalties")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.allocation_order == ["principal", "interest", "fees", "penalties"]
    event = AuditEvent.objects.get(action="servicing_product.updated")
    assert event.actor_id == user.pk
    assert event.changes == {
        "allocation_order": [
            ["fees", "penalties", "interest", "principal"],
            ["principal", "interest", "fees", "penalties"],
        ]
    }


def test_admin_change_form_refuses_a_manager(product, staff_client):
    """Managers oversee but do not configure: the product settings are the
    administrator role's (users.roles)."""
    client, _ = staff_client("manager")
    url = f"/admin/servicing/servicingproduct/{product.pk}/change/"
    response = client.post(url, _admin_form(product, late_fee_amount="99.00"))
    assert response.status_code in (302, 403)
    product.refresh_from_db()
    assert product.late_fee_amount == D("25.00")


def test_the_administrator_role_changes_product_settings(product, staff_client):
    client, user = staff_client("administrator")  # by role, no extra grant
    url = f"/admin/servicing/servicingproduct/{product.pk}/change/"
    response = client.post(url, _admin_form(product, late_fee_amount="30.00"))
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.late_fee_amount == D("30.00")
    assert AuditEvent.objects.filter(
        action="servicing_product.updated", object_id=str(product.pk), actor_id=user.pk
    ).exists()


def test_admin_add_form_creates_a_product_through_the_service(product, staff_client):
    client, user = staff_client("administrator")
    user = grant_change(user)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="servicing", codename="add_servicingproduct")
    )
    url = "/admin/servicing/servicingproduct/add/"
    assert client.get(url).status_code == 200
    data = _admin_form(product, code="auto", name="Auto loan", statement_cycle_day=15)
    data.update({"accounts-TOTAL_FORMS": "0", "accounts-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    created = ServicingProduct.objects.get(code="auto")
    assert (created.version, created.statement_cycle_day) == (1, 15)
    assert created.accounts.count() == 12  # every role, accrued interest included
    assert AuditEvent.objects.filter(
        action="servicing_product.created", object_id=str(created.pk), actor_id=user.pk
    ).exists()
