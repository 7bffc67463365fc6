"""A customer's addresses and phones. Exactly one of each is primary once
there are any; the service keeps it so (the partial unique constraints on
the tables refuse a second)."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.exceptions import ValidationFailed
from core.models import AuditCategory
from customers import validators
from customers.models import Address, Customer, Phone
from customers.services._common import ADDRESS_FIELDS, PHONE_FIELDS, address_repr, lock
from customers.validators import Errors


def insert_address(customer: Customer, cleaned: dict, acting_user) -> Address:
    has_primary = customer.addresses.filter(is_primary=True).exists()
    if cleaned["is_primary"] and has_primary:
        customer.addresses.filter(is_primary=True).update(
            is_primary=False, updated_at=timezone.now()
        )
    elif not has_primary:
        cleaned = {**cleaned, "is_primary": True}
    address = Address.objects.create(customer=customer, **cleaned)
    audit.record(
        action="customer.address_added",
        category=AuditCategory.UPDATE,
        obj=customer,
        changes={f"address.{k}": [None, v] for k, v in address_repr(cleaned).items() if v != ""},
        metadata={"address_id": address.pk},
        actor=actor_of(acting_user),
    )
    return address


def add_address(*, customer: Customer, data: Mapping[str, Any], acting_user=None) -> Address:
    """Add an address (fields as in validators.ADDRESS_INPUT_FIELDS). The
    first address, or one marked primary, becomes the primary one."""
    errors = Errors()
    cleaned = validators.clean_address(data, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        return insert_address(lock(customer), cleaned, acting_user)


def prepare_address_update(address: Address, changes: Mapping[str, Any], errors: Errors) -> dict:
    merged = {name: getattr(address, name) for name in ADDRESS_FIELDS}
    merged.update(changes)
    cleaned = validators.clean_address(merged, errors=errors)
    if address.is_primary and not cleaned["is_primary"]:
        errors.add("is_primary", "Make another address primary instead.")
    return cleaned


def apply_address_update(
    customer: Customer, address: Address, cleaned: dict, acting_user
) -> Address:
    before = audit.snapshot(address, ADDRESS_FIELDS)
    if cleaned["is_primary"] and not address.is_primary:
        customer.addresses.filter(is_primary=True).update(
            is_primary=False, updated_at=timezone.now()
        )
    for name, value in cleaned.items():
        setattr(address, name, value)
    changes = audit.diff(before, audit.snapshot(address, ADDRESS_FIELDS))
    if not changes:
        return address
    address.save()
    audit.record(
        action="customer.address_changed",
        category=AuditCategory.UPDATE,
        obj=customer,
        changes={f"address.{k}": v for k, v in changes.items()},
        metadata={"address_id": address.pk},
        actor=actor_of(acting_user),
    )
    return address


def update_address(*, address: Address, changes: Mapping[str, Any], acting_user=None) -> Address:
    """Change some fields of an address. Marking it primary unmarks the
    previous primary; the primary cannot be unmarked directly."""
    with transaction.atomic():
        customer = lock(address.customer)
        address = Address.objects.get(pk=address.pk, customer=customer)
        errors = Errors()
        cleaned = prepare_address_update(address, changes, errors)
        errors.raise_if_any()
        return apply_address_update(customer, address, cleaned, acting_user)


def remove_address(*, address: Address, acting_user=None) -> None:
    """Delete an address; if it was primary, the oldest remaining one
    becomes primary."""
    with transaction.atomic():
        customer = lock(address.customer)
        address = Address.objects.get(pk=address.pk, customer=customer)
        before = address_repr(audit.snapshot(address, ADDRESS_FIELDS))
        address_id, was_primary = address.pk, address.is_primary
        address.delete()
        promoted = None
        if was_primary:
            promoted = customer.addresses.order_by("id").first()
            if promoted:
                promoted.is_primary = True
                promoted.save(update_fields=["is_primary", "updated_at"])
        audit.record(
            action="customer.address_removed",
            category=AuditCategory.UPDATE,
            obj=customer,
            changes={f"address.{k}": [v, None] for k, v in before.items() if v != ""},
            metadata={
                "address_id": address_id,
                **({"new_primary_address_id": promoted.pk} if promoted else {}),
            },
            actor=actor_of(acting_user),
        )


# --- phones -------------------------------------------------------------------------------


def phone_taken(customer: Customer, number: str, *, exclude_pk: int | None = None) -> bool:
    phones = customer.phones.filter(number=number)
    if exclude_pk is not None:
        phones = phones.exclude(pk=exclude_pk)
    return phones.exists()


def insert_phone(customer: Customer, cleaned: dict, acting_user) -> Phone:
    if phone_taken(customer, cleaned["number"]):
        raise ValidationFailed(
            "This customer already has this phone number.",
            fields={"number": ["This customer already has this phone number."]},
        )
    has_primary = customer.phones.filter(is_primary=True).exists()
    if cleaned["is_primary"] and has_primary:
        customer.phones.filter(is_primary=True).update(is_primary=False, updated_at=timezone.now())
    elif not has_primary:
        cleaned = {**cleaned, "is_primary": True}
    phone = Phone.objects.create(customer=customer, **cleaned)
    audit.record(
        action="customer.phone_added",
        category=AuditCategory.UPDATE,
        obj=customer,
        changes={f"phone.{k}": [None, v] for k, v in cleaned.items()},
        metadata={"phone_id": phone.pk},
        actor=actor_of(acting_user),
    )
    return phone


def add_phone(*, customer: Customer, data: Mapping[str, Any], acting_user=None) -> Phone:
    """Add a phone number (kind, number, is_primary), stored in E.164. The
    first phone, or one marked primary, becomes the primary one."""
    errors = Errors()
    cleaned = validators.clean_phone(data, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        return insert_phone(lock(customer), cleaned, acting_user)


def prepare_phone_update(phone: Phone, changes: Mapping[str, Any], errors: Errors) -> dict:
    merged = {name: getattr(phone, name) for name in PHONE_FIELDS}
    merged.update(changes)
    cleaned = validators.clean_phone(merged, errors=errors)
    if phone.is_primary and not cleaned["is_primary"]:
        errors.add("is_primary", "Make another phone primary instead.")
    if cleaned["number"] and phone_taken(phone.customer, cleaned["number"], exclude_pk=phone.pk):
        errors.add("number", "This customer already has this phone number.")
    return cleaned


def apply_phone_update(customer: Customer, phone: Phone, cleaned: dict, acting_user) -> Phone:
    before = audit.snapshot(phone, PHONE_FIELDS)
    if cleaned["is_primary"] and not phone.is_primary:
        customer.phones.filter(is_primary=True).update(is_primary=False, updated_at=timezone.now())
    for name, value in cleaned.items():
        setattr(phone, name, value)
    changes = audit.diff(before, audit.snapshot(phone, PHONE_FIELDS))
    if not changes:
        return phone
    phone.save()
    audit.record(
        action="customer.phone_changed",
        category=AuditCategory.UPDATE,
        obj=customer,
        changes={f"phone.{k}": v for k, v in changes.items()},
        metadata={"phone_id": phone.pk},
        actor=actor_of(acting_user),
    )
    return phone


def update_phone(*, phone: Phone, changes: Mapping[str, Any], acting_user=None) -> Phone:
    """Change a phone's kind, number or primary flag (as update_address)."""
    with transaction.atomic():
        customer = lock(phone.customer)
        phone = Phone.objects.select_related("customer").get(pk=phone.pk, customer=customer)
        errors = Errors()
        cleaned = prepare_phone_update(phone, changes, errors)
        errors.raise_if_any()
        return apply_phone_update(customer, phone, cleaned, acting_user)


def remove_phone(*, phone: Phone, acting_user=None) -> None:
    """Delete a phone; if it was primary, the oldest remaining one becomes primary."""
    with transaction.atomic():
        customer = lock(phone.customer)
        phone = Phone.objects.get(pk=phone.pk, customer=customer)
        before = audit.snapshot(phone, PHONE_FIELDS)
        phone_id, was_primary = phone.pk, phone.is_primary
        phone.delete()
        promoted = None
        if was_primary:
            promoted = customer.phones.order_by("id").first()
            if promoted:
                promoted.is_primary = True
                promoted.save(update_fields=["is_primary", "updated_at"])
        audit.record(
            action="customer.phone_removed",
            category=AuditCategory.UPDATE,
            obj=customer,
            changes={f"phone.{k}": [v, None] for k, v in before.items()},
            metadata={
                "phone_id": phone_id,
                **({"new_primary_phone_id": promoted.pk} if promoted else {}),
            },
            actor=actor_of(acting_user),
        )
