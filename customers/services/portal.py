"""What borrowers do for themselves: sign up, and change their own
contact details, preferences and consents."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from core import audit
from core.businessdate import get_business_date
from core.exceptions import Conflict
from core.models import AuditCategory
from customers import validators
from customers.consent_wording import ESIGN_TOPIC
from customers.models import Consent, Customer
from customers.services._common import lock
from customers.services.consents import consent_decisions, insert_consent
from customers.services.contact import (
    apply_address_update,
    apply_phone_update,
    insert_address,
    insert_phone,
    prepare_address_update,
    prepare_phone_update,
)
from customers.services.customer import apply_update, insert_customer, prepare_update
from customers.validators import Errors
from users.models import User

# What a borrower may change about themselves in the portal.
PORTAL_EDITABLE_FIELDS = (
    "email",
    "preferred_channel",
    "preferred_language",
    "quiet_hours_start",
    "quiet_hours_end",
)


def _email_taken_by_user(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    )


MSG_EMAIL_TAKEN = "An account with this email already exists. Sign in instead."


def register_borrower(
    *,
    first_name: str,
    last_name: str,
    email: str,
    date_of_birth: date | str | None,
    password: str,
    accept_electronic_records: bool,
    middle_name: str = "",
    ip_address: str | None = None,
) -> Customer:
    """Portal sign-up: a borrower user (username = the lower-cased e-mail)
    and a person customer linked to it, plus the E-SIGN consent the portal
    requires, in one transaction.

    Raises ValidationFailed (fields: first_name, last_name, email,
    date_of_birth, password, accept_electronic_records), including an e-mail
    already used by any account; nothing is written then. The new user is
    the actor of the audit events.
    """
    errors = Errors()
    cleaned = validators.clean_customer(
        {
            "kind": Customer.Kind.PERSON,
            "first_name": first_name,
            "middle_name": middle_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "email": email,
        },
        today=get_business_date(),
        errors=errors,
    )
    normalized_email = cleaned.get("email")
    if "email" not in errors.fields:
        if not normalized_email:
            errors.add("email", "Enter your email address.")
        elif _email_taken_by_user(normalized_email):
            errors.add("email", MSG_EMAIL_TAKEN)
    user = User(
        username=normalized_email or "",
        email=normalized_email or "",
        first_name=cleaned.get("first_name") or "",
        last_name=cleaned.get("last_name") or "",
        kind=User.Kind.BORROWER,
    )
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        for message in exc.messages:
            errors.add("password", message)
    if not accept_electronic_records:
        errors.add(
            "accept_electronic_records",
            "You must agree to receive records electronically to use the portal.",
        )
    errors.raise_if_any()

    with transaction.atomic():
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # the same e-mail signed up a moment ago
            raise Conflict(
                MSG_EMAIL_TAKEN, code="email_taken", fields={"email": [MSG_EMAIL_TAKEN]}
            ) from exc
        audit.record(
            action="user.borrower_registered",
            category=AuditCategory.CREATE,
            obj=user,
            changes={"username": [None, user.username], "kind": [None, user.kind]},
            actor=user,
        )
        esign = {
            "channel": ESIGN_TOPIC.channel,
            "purpose": ESIGN_TOPIC.purpose,
            "granted": True,
            "wording_version": ESIGN_TOPIC.wording_version,
        }
        customer = insert_customer(
            cleaned=cleaned,
            addresses=[],
            phones=[],
            consents=[],
            user=user,
            acting_user=user,
            source=Consent.Source.PORTAL,
        )
        insert_consent(
            customer, esign, source=Consent.Source.PORTAL, acting_user=user, ip_address=ip_address
        )
        return customer


def update_borrower_profile(
    *,
    customer: Customer,
    changes: Mapping[str, Any],
    primary_phone: Mapping[str, Any] | None = None,
    primary_address: Mapping[str, Any] | None = None,
    consents: Mapping[tuple[str, str], bool] | None = None,
    acting_user=None,
    ip_address: str | None = None,
) -> Customer:
    """A borrower's own profile change from the portal, in one transaction:
    contact preferences (PORTAL_EDITABLE_FIELDS; an e-mail is required),
    the primary phone and primary address (replaced in place, or added if
    there is none; None leaves them alone) and the standard consents.

    The sign-in e-mail of the portal account is not changed. Every message
    is collected before anything is written (phone fields as "phone.number",
    address fields as "address.city").
    """
    with transaction.atomic():
        locked = lock(customer)
        errors = Errors()
        for name in sorted(set(changes) - set(PORTAL_EDITABLE_FIELDS)):
            errors.add(name, "This cannot be changed in the portal.")
        cleaned = prepare_update(
            locked, {k: v for k, v in changes.items() if k in PORTAL_EDITABLE_FIELDS}, errors
        )
        if "email" in changes and not cleaned.get("email") and "email" not in errors.fields:
            errors.add("email", "Enter your email address.")

        phone_plan = address_plan = None
        if primary_phone is not None:
            phone = locked.phones.filter(is_primary=True).first()
            sub = Errors()
            if phone:
                phone_plan = (phone, prepare_phone_update(phone, primary_phone, sub))
            else:
                phone_plan = (None, validators.clean_phone(primary_phone, errors=sub))
            for name, messages in sub.fields.items():
                for message in messages:
                    errors.add(f"phone.{name}", message)
        if primary_address is not None:
            address = locked.addresses.filter(is_primary=True).first()
            sub = Errors()
            if address:
                address_plan = (address, prepare_address_update(address, primary_address, sub))
            else:
                address_plan = (None, validators.clean_address(primary_address, errors=sub))
            for name, messages in sub.fields.items():
                for message in messages:
                    errors.add(f"address.{name}", message)
        consent_rows = consent_decisions(locked, consents or {}, errors)
        errors.raise_if_any()

        apply_update(locked, cleaned, acting_user)
        if phone_plan:
            phone, values = phone_plan
            if phone:
                apply_phone_update(locked, phone, values, acting_user)
            else:
                insert_phone(locked, values, acting_user)
        if address_plan:
            address, values = address_plan
            if address:
                apply_address_update(locked, address, values, acting_user)
            else:
                insert_address(locked, values, acting_user)
        for row in consent_rows:
            insert_consent(
                locked,
                row,
                source=Consent.Source.PORTAL,
                acting_user=acting_user,
                ip_address=ip_address,
            )
        return locked
