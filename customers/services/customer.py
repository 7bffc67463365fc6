"""Creating and changing customers, and the audited tax id reveal."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction

from core import audit, crypto
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import NotFound, PermissionDenied
from core.models import AuditCategory
from customers import validators
from customers.models import Consent, Customer, date_of_birth_of
from customers.services._common import (
    DATE_OF_BIRTH_FIELDS,
    customer_snapshot,
    duplicate_tax_id,
    existing_tax_id_holder,
    lock,
    save_customer,
    set_date_of_birth,
    set_tax_id,
)
from customers.services.consents import insert_consent
from customers.services.contact import insert_address, insert_phone
from customers.tax_ids import tax_id_hash
from customers.validators import Errors

REVEAL_PERMISSION = "customers.reveal_tax_id"
REVEAL_DATE_OF_BIRTH_PERMISSION = "customers.reveal_date_of_birth"


def _clean_children(
    *,
    errors: Errors,
    addresses: Sequence[Mapping[str, Any]],
    phones: Sequence[Mapping[str, Any]],
    consents: Sequence[Mapping[str, Any]],
) -> tuple[list[dict], list[dict], list[dict]]:
    """Clean nested input of a new customer; the first address and phone
    become primary unless another is marked so."""
    clean_addresses = [
        validators.clean_address(item, errors=errors, prefix=f"addresses.{i}.")
        for i, item in enumerate(addresses)
    ]
    clean_phones = [
        validators.clean_phone(item, errors=errors, prefix=f"phones.{i}.")
        for i, item in enumerate(phones)
    ]
    clean_consents = [
        validators.clean_consent(item, errors=errors, prefix=f"consents.{i}.")
        for i, item in enumerate(consents)
    ]
    for group, items in (("addresses", clean_addresses), ("phones", clean_phones)):
        primaries = [i for i, item in enumerate(items) if item["is_primary"]]
        for i in primaries[1:]:
            errors.add(f"{group}.{i}.is_primary", "Only one can be primary.")
        if items and not primaries:
            items[0]["is_primary"] = True
    seen: dict[str, int] = {}
    for i, item in enumerate(clean_phones):
        if item["number"] and item["number"] in seen:
            errors.add(f"phones.{i}.number", "This number is listed twice.")
        seen.setdefault(item["number"], i)
    return clean_addresses, clean_phones, clean_consents


def insert_customer(
    *,
    cleaned: dict[str, Any],
    addresses: list[dict],
    phones: list[dict],
    consents: list[dict],
    user,
    acting_user,
    source: str,
) -> Customer:
    """Write a validated customer and its children; audit each. Must run
    inside the caller's transaction."""
    digits = cleaned.pop("tax_id")
    birth = cleaned.pop("date_of_birth")
    if digits:
        holder = existing_tax_id_holder(tax_id_hash(digits, cleaned["tax_id_type"]))
        if holder:
            raise duplicate_tax_id(holder)
    customer = Customer(**cleaned, user=user, created_by=actor_of(acting_user))
    set_date_of_birth(customer, birth)
    if digits:
        set_tax_id(customer, cleaned["tax_id_type"], digits)
    save_customer(customer)
    customer.customer_number = f"C-{customer.pk:06d}"
    customer.save(update_fields=["customer_number"])
    after = customer_snapshot(customer)
    audit.record(
        action="customer.created",
        category=AuditCategory.CREATE,
        obj=customer,
        changes={
            "customer_number": [None, customer.customer_number],
            **{k: [None, v] for k, v in after.items() if v not in (None, "")},
        },
        metadata={"source": source},
        actor=actor_of(acting_user),
    )
    for item in addresses:
        insert_address(customer, item, acting_user)
    for item in phones:
        insert_phone(customer, item, acting_user)
    for item in consents:
        insert_consent(customer, item, source=source, acting_user=acting_user, ip_address=None)
    return customer


def create_customer(
    *,
    data: Mapping[str, Any],
    addresses: Sequence[Mapping[str, Any]] = (),
    phones: Sequence[Mapping[str, Any]] = (),
    consents: Sequence[Mapping[str, Any]] = (),
    acting_user=None,
    source: str = Consent.Source.STAFF,
) -> Customer:
    """Create a person or business customer with optional addresses, phones
    and consents (each a mapping of that record's input fields).

    `data` holds customers.validators.CUSTOMER_INPUT_FIELDS ("tax_id" is
    the plaintext; it is optional for a prospect). Raises ValidationFailed
    with every field's message (nested input as "addresses.0.city"), or
    Conflict("duplicate_tax_id") naming the customer who already has the tax
    id; in both cases nothing is written. The customer number ("C-000123")
    is derived from the primary key.
    """
    errors = Errors()
    cleaned = validators.clean_customer(data, today=get_business_date(), errors=errors)
    children = _clean_children(errors=errors, addresses=addresses, phones=phones, consents=consents)
    errors.raise_if_any()
    with transaction.atomic():
        return insert_customer(
            cleaned=cleaned,
            addresses=children[0],
            phones=children[1],
            consents=children[2],
            user=None,
            acting_user=acting_user,
            source=source,
        )


def prepare_update(locked: Customer, changes: Mapping[str, Any], errors: Errors) -> dict:
    """Clean the stored customer overlaid with `changes`. A blank or absent
    "tax_id" keeps the stored one; a tax id cannot be removed once on file.
    A blank or absent "date_of_birth" likewise keeps the stored date (edit
    forms never show it: it is revealed only to permitted roles)."""
    if "kind" in changes and changes["kind"] != locked.kind:
        errors.add("kind", "The kind of customer cannot be changed.")
    stored = {"date_of_birth": date_of_birth_of(locked)}
    merged = {
        name: stored[name] if name in stored else getattr(locked, name)
        for name in validators.CUSTOMER_INPUT_FIELDS
        if name != "tax_id"
    }
    changes = dict(changes)
    if changes.get("date_of_birth") in (None, "") and stored["date_of_birth"] is not None:
        changes.pop("date_of_birth", None)
    merged.update(changes)
    merged["kind"] = locked.kind
    tax_id_given = bool(str(changes.get("tax_id") or "").strip())
    if not tax_id_given:
        merged.pop("tax_id", None)
        requested_type = changes.get("tax_id_type")
        if requested_type and requested_type != locked.tax_id_type:
            errors.add("tax_id", "Enter the tax id again to change its type.")
        merged["tax_id_type"] = locked.tax_id_type
    return validators.clean_customer(
        merged, today=get_business_date(), errors=errors, tax_id_given=tax_id_given
    )


def apply_update(locked: Customer, cleaned: dict[str, Any], acting_user) -> Customer:
    before = customer_snapshot(locked)
    digits = cleaned.pop("tax_id", "")
    changed_fields: list[str] = []
    digest = tax_id_hash(digits, cleaned["tax_id_type"]) if digits else ""
    if digits and (digest != locked.tax_id_hash or cleaned["tax_id_type"] != locked.tax_id_type):
        holder = existing_tax_id_holder(digest, exclude_pk=locked.pk)
        if holder:
            raise duplicate_tax_id(holder)
        set_tax_id(locked, cleaned["tax_id_type"], digits)
        changed_fields += ["tax_id_type", "tax_id_encrypted", "tax_id_last4", "tax_id_hash"]
    elif not digits:
        cleaned["tax_id_type"] = locked.tax_id_type
    birth = cleaned.pop("date_of_birth", None)
    dob_changed = birth != date_of_birth_of(locked)
    if dob_changed:
        set_date_of_birth(locked, birth)
        changed_fields += list(DATE_OF_BIRTH_FIELDS)
    for name, value in cleaned.items():
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed_fields.append(name)
    after = customer_snapshot(locked)
    changes = audit.diff(before, after)
    if dob_changed:
        # Masked, the change shows even when the year stays the same.
        changes["date_of_birth"] = [before["date_of_birth"], after["date_of_birth"]]
    if not changed_fields:
        return locked
    save_customer(locked, update_fields=sorted({*changed_fields, "updated_at"}))
    if changes:
        audit.record(
            action="customer.updated",
            category=AuditCategory.UPDATE,
            obj=locked,
            changes=changes,
            actor=actor_of(acting_user),
        )
    return locked


def update_customer(
    *, customer: Customer, changes: Mapping[str, Any], acting_user=None
) -> Customer:
    """Change some of a customer's fields (a partial update).

    Locks the customer row. The kind cannot change. A non-blank "tax_id"
    replaces the stored one (checked for duplicates like a new one); blank
    or absent keeps it. Audits the diff ("customer.updated"), with a tax id
    change shown only as masked last four digits. Returns the saved
    customer; with nothing changed, writes nothing.
    """
    with transaction.atomic():
        locked = lock(customer)
        errors = Errors()
        cleaned = prepare_update(locked, changes, errors)
        errors.raise_if_any()
        return apply_update(locked, cleaned, acting_user)


def reveal_tax_id(*, customer: Customer, acting_user, reason: str = "") -> str:
    """The customer's full tax id, formatted ("123-45-6789", "12-3456789").

    Refused with PermissionDenied unless `acting_user` holds
    customers.reveal_tax_id; NotFound when no tax id is on file. The
    "sensitive_read" audit event is written (and, unless the caller holds
    an outer transaction, committed) before the token is decrypted, so every
    disclosure is on record.
    """
    if acting_user is None or not acting_user.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied("Your role may not see full tax ids.", code="reveal_not_allowed")
    if not customer.tax_id_encrypted:
        raise NotFound("This customer has no tax id on file.", code="no_tax_id")
    with transaction.atomic():
        audit.record(
            action="customer.tax_id_revealed",
            category=AuditCategory.SENSITIVE_READ,
            obj=customer,
            metadata={"tax_id": customer.tax_id_masked, **({"reason": reason} if reason else {})},
            actor=acting_user,
        )
    digits = crypto.decrypt(customer.tax_id_encrypted)
    return validators.format_tax_id(customer.tax_id_type, digits)


def reveal_date_of_birth(*, customer: Customer, acting_user, reason: str = "") -> date:
    """The customer's full date of birth.

    Refused with PermissionDenied unless `acting_user` holds
    customers.reveal_date_of_birth; NotFound when none is on file. Like
    reveal_tax_id, the "sensitive_read" audit event (masked value only) is
    written, and unless the caller holds an outer transaction committed,
    before the token is decrypted.
    """
    if acting_user is None or not acting_user.has_perm(REVEAL_DATE_OF_BIRTH_PERMISSION):
        raise PermissionDenied(
            "Your role may not see full dates of birth.", code="reveal_not_allowed"
        )
    if not customer.has_date_of_birth:
        raise NotFound("This customer has no date of birth on file.", code="no_date_of_birth")
    with transaction.atomic():
        audit.record(
            action="customer.date_of_birth_revealed",
            category=AuditCategory.SENSITIVE_READ,
            obj=customer,
            metadata={
                "date_of_birth": customer.date_of_birth_masked,
                **({"reason": reason} if reason else {}),
            },
            actor=acting_user,
        )
    return date_of_birth_of(customer)
