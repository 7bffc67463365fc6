"""Helpers shared by the customer services: tax id storage,
row locks, audit actors and snapshots."""

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction

from core import audit, context, crypto
from core.exceptions import Conflict
from customers.models import Customer
from customers.tax_ids import tax_id_hash

# What a customer's audit diff shows. The tax id and the date of birth
# appear as masked pairs under "tax_id" and "date_of_birth" (see
# customer_snapshot), never as token, plain value or hash.
AUDITED_FIELDS = (
    "kind",
    "first_name",
    "middle_name",
    "last_name",
    "business_name",
    "dba_name",
    "entity_type",
    "registration_date",
    "legal_name",
    "tax_id_type",
    "email",
    "preferred_channel",
    "preferred_language",
    "quiet_hours_start",
    "quiet_hours_end",
)
ADDRESS_FIELDS = ("kind", "line1", "line2", "city", "state", "postal_code", "country", "is_primary")
PHONE_FIELDS = ("kind", "number", "is_primary")


def lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def duplicate_tax_id(existing_number: str | None) -> Conflict:
    message = (
        f"A customer with this tax id already exists: {existing_number}."
        if existing_number
        else "A customer with this tax id already exists."
    )
    return Conflict(message, code="duplicate_tax_id", fields={"tax_id": [message]})


def existing_tax_id_holder(digest: str, *, exclude_pk: int | None = None) -> str | None:
    holders = Customer.objects.filter(tax_id_hash=digest)
    if exclude_pk is not None:
        holders = holders.exclude(pk=exclude_pk)
    return holders.values_list("customer_number", flat=True).first()


def save_customer(customer: Customer, **save_kwargs) -> None:
    """Save inside a savepoint so that a concurrent insert of the same tax
    id (which passed our look-up before either committed) becomes the same
    Conflict as the look-up would have raised."""
    try:
        with transaction.atomic():
            customer.save(**save_kwargs)
    except IntegrityError as exc:
        if "customer_tax_id_unique" not in str(exc):
            raise
        raise duplicate_tax_id(
            existing_tax_id_holder(customer.tax_id_hash, exclude_pk=customer.pk)
        ) from exc


def set_tax_id(customer: Customer, tax_id_type: str, digits: str) -> None:
    customer.tax_id_type = tax_id_type
    customer.tax_id_encrypted = crypto.encrypt(digits)
    customer.tax_id_last4 = digits[-4:]
    customer.tax_id_hash = tax_id_hash(digits, tax_id_type)


DATE_OF_BIRTH_FIELDS = ("date_of_birth_encrypted", "birth_year")


def set_date_of_birth(customer: Customer, birth: date | None) -> None:
    """Store `birth` encrypted, with its year for the masked display."""
    customer.date_of_birth_encrypted = crypto.encrypt(birth.isoformat()) if birth else ""
    customer.birth_year = birth.year if birth else None


def customer_snapshot(customer: Customer) -> dict:
    values = audit.snapshot(customer, AUDITED_FIELDS)
    # core.audit renders dates but not times of day (quiet hours).
    for name, value in values.items():
        if isinstance(value, time):
            values[name] = value.isoformat(timespec="minutes")
    values["tax_id"] = customer.tax_id_masked or None
    values["date_of_birth"] = customer.date_of_birth_masked or None
    return values


def address_repr(values: Mapping[str, Any]) -> dict:
    return {name: values.get(name) for name in ADDRESS_FIELDS}


def client_ip(ip_address: str | None) -> str | None:
    return ip_address if ip_address is not None else context.current().ip_address
