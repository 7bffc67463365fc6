"""Reads of a customer's consents: every decision, the latest per channel and
purpose, and the standard consent questions with their current answers."""

from dataclasses import dataclass

from django.db.models import QuerySet

from customers.consent_wording import CONSENT_TOPICS, ConsentTopic
from customers.models import Consent, Customer


def consent_history(customer: Customer) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-given_at", "-id")
    )


def current_consents(customer: Customer) -> dict[tuple[str, str], Consent]:
    """The latest decision per (channel, purpose)."""
    current: dict[tuple[str, str], Consent] = {}
    for consent in consent_history(customer):
        current.setdefault((consent.channel, consent.purpose), consent)
    return current


@dataclass(frozen=True)
class ConsentStatus:
    topic: ConsentTopic
    latest: Consent | None

    @property
    def granted(self) -> bool:
        return bool(self.latest and self.latest.granted)


def consent_statuses(customer: Customer) -> list[ConsentStatus]:
    """Each standard consent question with the customer's current answer
    (None when never asked), in the order the portal shows them."""
    current = current_consents(customer)
    return [
        ConsentStatus(topic, current.get((topic.channel, topic.purpose)))
        for topic in CONSENT_TOPICS
    ]
