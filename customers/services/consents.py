"""Consents: an append-only history of decisions; the current consent for
a (channel, purpose) is its latest row."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.models import AuditCategory
from customers import validators
from customers.consent_wording import TOPICS_BY_PAIR
from customers.models import Consent, Customer
from customers.services._common import client_ip, lock
from customers.validators import Errors


def latest_consent(customer: Customer, channel: str, purpose: str) -> Consent | None:
    return (
        Consent.objects.filter(customer=customer, channel=channel, purpose=purpose)
        .order_by("-given_at", "-id")
        .first()
    )


def insert_consent(
    customer: Customer,
    cleaned: dict,
    *,
    source: str,
    acting_user,
    ip_address: str | None,
    given_at: datetime | None = None,
) -> Consent:
    previous = latest_consent(customer, cleaned["channel"], cleaned["purpose"])
    consent = Consent.objects.create(
        customer=customer,
        channel=cleaned["channel"],
        purpose=cleaned["purpose"],
        granted=cleaned["granted"],
        wording_version=cleaned["wording_version"],
        given_at=given_at or timezone.now(),
        source=source,
        recorded_by=actor_of(acting_user),
        ip_address=client_ip(ip_address),
    )
    key = f"consent.{consent.channel}.{consent.purpose}"
    audit.record(
        action="customer.consent_granted" if consent.granted else "customer.consent_withdrawn",
        category=AuditCategory.UPDATE,
        obj=customer,
        changes={key: [previous.granted if previous else None, consent.granted]},
        metadata={
            "consent_id": consent.pk,
            "wording_version": consent.wording_version,
            "source": source,
        },
        actor=actor_of(acting_user),
    )
    return consent


def record_consent(
    *,
    customer: Customer,
    data: Mapping[str, Any],
    source: str = Consent.Source.STAFF,
    acting_user=None,
    ip_address: str | None = None,
) -> Consent:
    """Append one consent decision (channel, purpose, granted,
    wording_version). A blank wording version means today's standard text
    for the channel and purpose (consent_wording), if there is one.
    `ip_address` defaults to the request's. History is never rewritten: a
    withdrawal is a new row with granted=False."""
    errors = Errors()
    cleaned = validators.clean_consent(data, errors=errors)
    if source not in Consent.Source.values:
        errors.add("source", validators.choice_message(Consent.Source))
    errors.raise_if_any()
    with transaction.atomic():
        return insert_consent(
            lock(customer), cleaned, source=source, acting_user=acting_user, ip_address=ip_address
        )


def consent_decisions(
    customer: Customer, decisions: Mapping[tuple[str, str], bool], errors: Errors
) -> list[dict]:
    """The consent rows needed to bring the standard topics to `decisions`:
    only those whose current state differs (never recorded counts as not
    granted), with today's wording version."""
    rows = []
    for (channel, purpose), granted in decisions.items():
        topic = TOPICS_BY_PAIR.get((channel, purpose))
        if topic is None:
            errors.add(f"consents.{channel}__{purpose}", "There is no such consent question.")
            continue
        latest = latest_consent(customer, channel, purpose)
        if bool(latest and latest.granted) == bool(granted):
            continue
        rows.append(
            {
                "channel": channel,
                "purpose": purpose,
                "granted": bool(granted),
                "wording_version": topic.wording_version,
            }
        )
    return rows


def set_consents(
    *,
    customer: Customer,
    decisions: Mapping[tuple[str, str], bool],
    source: str,
    acting_user=None,
    ip_address: str | None = None,
) -> list[Consent]:
    """Grant or withdraw the standard consent topics (consent_wording) at
    once: {(channel, purpose): granted}. Records a row, with the current
    wording version, only where the decision differs from the current state."""
    with transaction.atomic():
        locked = lock(customer)
        errors = Errors()
        rows = consent_decisions(locked, decisions, errors)
        errors.raise_if_any()
        return [
            insert_consent(
                locked, row, source=source, acting_user=acting_user, ip_address=ip_address
            )
            for row in rows
        ]
