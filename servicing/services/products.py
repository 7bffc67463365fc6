"""Servicing products: create a product (version 1) or a new version, and
change a product's settings (administrators, audited).

Every setting passes `validate_settings` first; an invalid value raises one
ValidationFailed with a message per field and nothing is written.
"""

import re
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core import audit
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.finance import (
    AllocationMethod,
    Amortization,
    Component,
    DayCount,
    ExcessHandling,
    InstallmentMethod,
    InterestMethod,
    PrepaymentMode,
    PrincipalRounding,
    RepaymentUnit,
    installment_method_error,
)
from core.models import AuditCategory
from core.money import ROUNDING_MODES
from servicing.models import AccountRole, GLAccount, Loan, ProductAccount, ServicingProduct

# The standard chart (migration 0002): role -> account code.
DEFAULT_CHART = {
    AccountRole.CASH: "1100",
    AccountRole.PRINCIPAL: "1200",
    AccountRole.INTEREST: "1210",
    AccountRole.ACCRUED_INTEREST: "1215",
    AccountRole.FEES: "1220",
    AccountRole.PENALTIES: "1230",
    AccountRole.UNAPPLIED: "2100",
    AccountRole.OVERPAYMENT: "2200",
    AccountRole.INTEREST_INCOME: "4100",
    AccountRole.FEE_INCOME: "4200",
    AccountRole.RECOVERY: "4300",
    AccountRole.CHARGE_OFF: "5100",
}
DEFAULT_ORDER = ["fees", "penalties", "interest", "principal"]

# Django's model "change" permission on ServicingProduct: it is what the
# admin's change form checks too, so the service and the admin agree.
CHANGE_PERMISSION = "servicing.change_servicingproduct"

# core.money quantises every amount to the cent (two minor-unit digits), so a
# product may only use ISO 4217 currencies whose minor unit is two digits.
SUPPORTED_CURRENCIES = frozenset(
    {"USD", "CAD", "EUR", "GBP", "AUD", "NZD", "CHF", "MXN", "SEK", "NOK", "DKK", "SGD", "HKD"}
)

# The settings `update_product` may change (code and version identify a
# product; is_active is managed by versioning).
SETTING_FIELDS = (
    "name",
    "currency",
    "interest_method",
    "amortization",
    "day_count",
    "repayment_every",
    "repayment_unit",
    "installment_multiple",
    "rounding",
    "installment_method",
    "equal_principal_rounding",
    "allocation_order",
    "allocation_method",
    "prepayment_mode",
    "excess_default",
    "late_fee_type",
    "late_fee_amount",
    "late_fee_percent",
    "late_fee_grace_days",
    "late_fee_cap",
    "nsf_fee_amount",
    "charge_off_days_past_due",
    "arrears_grace_days",
    "statement_cycle_day",
    "modification_approval_limit",
)
# Read by the replay of a loan's whole history (servicing.services.sync), so
# changing them on a product with loans would re-allocate past payments or,
# for the late fee grace, change which past payments were late (a shorter
# grace would charge fees for payments made in time under the old one).
REPLAYED_FIELDS = ("allocation_order", "allocation_method", "late_fee_grace_days")


def _choices(enum) -> str:
    return ", ".join(member.value for member in enum)


def _decimal(value) -> Decimal | None:
    if isinstance(value, float | bool) or value is None:
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return result if result.is_finite() else None


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_money(errors: dict, values: dict, name: str, label: str, *, optional=False) -> None:
    if name not in values:
        return
    raw = values[name]
    if raw is None or raw == "":
        if not optional:
            errors[name] = [f"Enter the {label}."]
        return
    amount = _decimal(raw)
    if amount is None or amount < 0:
        errors[name] = [f"The {label} must be an amount of zero or more."]
    elif amount != amount.quantize(Decimal("0.01")):
        errors[name] = [f"The {label} must be in whole cents."]
    elif amount >= Decimal("1e12"):
        errors[name] = [f"The {label} is too large."]


def _check_int_range(errors: dict, values: dict, name: str, low: int, high: int, what: str):
    if name not in values:
        return
    number = _int(values[name])
    if number is None or not low <= number <= high:
        errors[name] = [f"{what} must be a whole number from {low} to {high}."]


def _check_choice(errors: dict, values: dict, name: str, enum, what: str) -> None:
    if name in values and values[name] not in {member.value for member in enum}:
        errors[name] = [f"Choose a valid {what}: {_choices(enum)}."]


def validate_settings(values: dict) -> dict:
    """Check the ServicingProduct settings in `values` (any subset of
    SETTING_FIELDS; absent ones are not checked). Returns them normalised
    (currency upper-cased, allocation order as a list of strings); raises one
    ValidationFailed whose `fields` holds a list of messages per bad field.

    Amounts are Decimals (or strings) in the product's currency, in whole
    cents; `late_fee_percent` is a fraction of the late instalment
    (0.05 = 5%, at most 1 = 100%). `late_fee_grace_days` N: no late fee
    until the payment is more than N days late; `arrears_grace_days`:
    delinquent days are the days past due beyond it."""
    errors: dict[str, list[str]] = {}
    clean = dict(values)
    unknown = sorted(set(values) - set(SETTING_FIELDS))
    for name in unknown:
        errors[name] = ["Unknown product setting."]

    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = ["Enter the product's name."]
    if "currency" in values:
        currency = str(values["currency"] or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            errors["currency"] = ["Enter a three-letter ISO 4217 currency code."]
        elif currency not in SUPPORTED_CURRENCIES:
            errors["currency"] = [
                f"{currency} is not supported: amounts are kept in cents; use one of "
                f"{', '.join(sorted(SUPPORTED_CURRENCIES))}."
            ]
        else:
            clean["currency"] = currency

    # engine parameters
    _check_choice(errors, values, "interest_method", InterestMethod, "interest method")
    _check_choice(errors, values, "amortization", Amortization, "amortisation")
    _check_choice(errors, values, "day_count", DayCount, "day count")
    _check_choice(errors, values, "repayment_unit", RepaymentUnit, "repayment unit")
    _check_int_range(errors, values, "repayment_every", 1, 366, "Repayment every")
    if "rounding" in values and values["rounding"] not in ROUNDING_MODES:
        errors["rounding"] = [f"Choose a valid rounding: {', '.join(ROUNDING_MODES)}."]
    if "installment_multiple" in values:
        multiple = _decimal(values["installment_multiple"])
        if multiple is None or multiple < Decimal("0.01") or multiple >= Decimal("1000000"):
            errors["installment_multiple"] = ["The instalment multiple must be at least 0.01."]

    _check_choice(errors, values, "installment_method", InstallmentMethod, "instalment method")
    _check_choice(
        errors, values, "equal_principal_rounding", PrincipalRounding, "equal-principal rounding"
    )
    if "installment_method" not in errors:
        errors.update(installment_method_errors(values))

    # allocation waterfall
    if "allocation_order" in values:
        order = values["allocation_order"]
        components = sorted(member.value for member in Component)
        if (
            not isinstance(order, list | tuple)
            or not all(isinstance(c, str) for c in order)
            or sorted(order) != components
        ):
            errors["allocation_order"] = [
                f"The allocation order must list each of {_choices(Component)} exactly once."
            ]
        else:
            clean["allocation_order"] = [str(c) for c in order]
    _check_choice(errors, values, "allocation_method", AllocationMethod, "allocation method")
    _check_choice(errors, values, "prepayment_mode", PrepaymentMode, "prepayment mode")
    _check_choice(errors, values, "excess_default", ExcessHandling, "excess default")

    # fees
    if "late_fee_type" in values and values["late_fee_type"] not in (
        ServicingProduct.LateFeeType.values
    ):
        errors["late_fee_type"] = [
            f"Choose a valid late fee type: {', '.join(ServicingProduct.LateFeeType.values)}."
        ]
    _check_money(errors, values, "late_fee_amount", "late fee amount")
    if "late_fee_percent" in values:
        percent = _decimal(values["late_fee_percent"])
        if percent is None or not Decimal(0) <= percent <= Decimal(1):
            errors["late_fee_percent"] = [
                "The late fee percent is a fraction of the instalment from 0 to 1 (0.05 = 5%)."
            ]
        elif percent != percent.quantize(Decimal("0.0001")):
            errors["late_fee_percent"] = ["The late fee percent has at most four decimals."]
    _check_int_range(errors, values, "late_fee_grace_days", 0, 60, "The late fee grace (days)")
    _check_money(errors, values, "late_fee_cap", "late fee cap", optional=True)
    if "late_fee_cap" in values and values["late_fee_cap"] == "":
        clean["late_fee_cap"] = None
    _check_money(errors, values, "nsf_fee_amount", "NSF fee")
    _check_money(errors, values, "modification_approval_limit", "modification approval limit")

    # life events
    _check_int_range(
        errors, values, "charge_off_days_past_due", 30, 720, "Charge-off days past due"
    )
    _check_int_range(errors, values, "arrears_grace_days", 0, 90, "The arrears grace (days)")
    _check_int_range(errors, values, "statement_cycle_day", 0, 28, "The statement cycle day")

    if errors:
        raise ValidationFailed("The product settings are not valid.", fields=errors)
    return clean


def installment_method_errors(values: dict) -> dict[str, list[str]]:
    """The instalment method's refusal for `values` (absent amortisation or
    interest method: the defaults), as core.finance judges it: a
    per-period-rate method solves a level instalment on the declining
    balance, and the engine would refuse the terms of every loan otherwise."""
    message = installment_method_error(
        values.get("installment_method"),
        values.get("amortization", Amortization.EQUAL_INSTALLMENTS),
        values.get("interest_method", InterestMethod.DECLINING_BALANCE),
    )
    return {"installment_method": [_sentence(message)]} if message else {}


def _sentence(message: str) -> str:
    return message[0].upper() + message[1:] + "."


def _require_perm(user) -> None:
    """user=None is the system itself (migrations, demo data, tests' fixtures)."""
    if user is not None and not user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(
            "Your role may not change servicing products.",
            fields={"permission": [CHANGE_PERMISSION]},
        )


@transaction.atomic
def create_product(
    *, code: str, name: str, acting_user=None, chart=None, **settings
) -> ServicingProduct:
    """A new product, or the next version of `code` if it exists.

    `settings` are ServicingProduct fields (checked by `validate_settings`);
    `chart` maps AccountRole to GL account codes (default: the standard
    chart). Raises ValidationFailed (nothing written) for a bad setting or
    chart, PermissionDenied if `acting_user` lacks CHANGE_PERMISSION."""
    _require_perm(acting_user)
    settings.setdefault("allocation_order", list(DEFAULT_ORDER))
    settings = validate_settings({"name": name, **settings})
    settings.pop("name")
    codes = {**DEFAULT_CHART, **(chart or {})}
    accounts = dict(GLAccount.objects.filter(code__in=codes.values()).values_list("code", "pk"))
    chart_errors = [
        f"{role}: no GL account {code!r}"
        for role, code in codes.items()
        if role not in AccountRole.values or code not in accounts
    ]
    if chart_errors:
        raise ValidationFailed(
            "The product settings are not valid.", fields={"chart": chart_errors}
        )
    latest = ServicingProduct.objects.filter(code=code).order_by("-version").first()
    product = ServicingProduct.objects.create(
        code=code, name=name, version=(latest.version + 1) if latest else 1, **settings
    )
    if latest:
        ServicingProduct.objects.filter(code=code).exclude(pk=product.pk).update(is_active=False)
    ProductAccount.objects.bulk_create(
        ProductAccount(product=product, role=role, account_id=accounts[code])
        for role, code in codes.items()
    )
    audit.record(
        action="servicing_product.created",
        category=AuditCategory.CONFIG,
        obj=product,
        changes={"version": [latest.version if latest else None, product.version]},
        actor=acting_user,
    )
    return product


def update_product(product: ServicingProduct, *, changes: dict, acting_user) -> ServicingProduct:
    """Change settings of `product` in place; returns the saved product.

    `changes` maps SETTING_FIELDS to new values (validated all together:
    one ValidationFailed with per-field messages, nothing written).
    `acting_user` needs CHANGE_PERMISSION (PermissionDenied otherwise;
    None is the system). Locks the product row; records one
    `servicing_product.updated` audit event with {field: [old, new]} of the
    fields that actually changed (no event, no write, when none did).

    A change affects future events only: fees assessed, statements cut,
    charge-offs and payments posted from now on. Past postings are never
    rewritten; schedule parameters (day count, interest method, ...) and the
    prepayment mode were copied onto each loan at boarding, so they apply to
    loans boarded from now on. The allocation order and method and the late
    fee grace are read when a loan's history is replayed, so changing them
    on a product that already has loans would re-allocate past payments or
    change which of them were late: that raises Conflict, and such a change
    is made as a new version (`create_product` with the same code), which
    new loans are boarded on.
    """
    _require_perm(acting_user)
    clean = validate_settings(dict(changes))
    with transaction.atomic():
        locked = ServicingProduct.objects.select_for_update().get(pk=product.pk)
        # compare as the database stores them (Decimal("25") == "25.00")
        changed = {}
        for name, value in clean.items():
            value = ServicingProduct._meta.get_field(name).to_python(value)
            if getattr(locked, name) != value:
                changed[name] = value
        if not changed:
            return locked
        combined = {
            name: changed.get(name, getattr(locked, name))
            for name in ("installment_method", "amortization", "interest_method")
        }
        refused = installment_method_errors(combined)
        if refused:
            raise ValidationFailed("The product settings are not valid.", fields=refused)
        replayed = [name for name in REPLAYED_FIELDS if name in changed]
        if replayed and Loan.objects.filter(product=locked).exists():
            raise Conflict(
                "This product already has loans; a new allocation order or method would "
                "re-allocate their past payments, a new late fee grace would change which of "
                "them were late. Create a new version of the product instead.",
                code="product_has_loans",
                fields={
                    name: ["Cannot change on a product with loans; create a new version."]
                    for name in replayed
                },
            )
        before = audit.snapshot(locked, changed)
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action="servicing_product.updated",
            category=AuditCategory.CONFIG,
            obj=locked,
            changes=audit.diff(before, audit.snapshot(locked, changed)),
            actor=acting_user,
        )
    return locked
