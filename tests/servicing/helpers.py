"""Helpers shared by the servicing tests: an API key client, JSON posts with an
Idempotency-Key, the loan endpoints' URLs, row counts and a payment."""

import secrets
from decimal import Decimal

from django.test import Client

from core.models import AuditEvent
from servicing.models import (
    ImportRun,
    Installment,
    JournalEntry,
    Loan,
    LoanEvent,
    Modification,
    Payment,
    PayoffQuote,
    Posting,
    ServicingProduct,
)
from servicing.services.payments import post_payment
from tests.factories import UserFactory
from users.authentication import hash_secret
from users.models import ApiKey, User

D = Decimal
LIST = "/api/v1/loans/"
BOARD = "/api/v1/loans/board/"


def detail(pk) -> str:
    return f"/api/v1/loans/{pk}/"


def payments_url(pk) -> str:
    return f"/api/v1/loans/{pk}/payments/"


def reverse_url(pk, payment_id) -> str:
    return f"/api/v1/loans/{pk}/payments/{payment_id}/reverse/"


def api_key_client(*scopes: str) -> Client:
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    owner = UserFactory(kind=User.Kind.INTEGRATION)
    ApiKey.objects.create(
        name=f"Partner {prefix}",
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=list(scopes),
        user=owner,
        created_by=owner,
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key {prefix}.{secret}")


def post_json(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, content_type="application/json", **headers)


def row_counts():
    return tuple(
        m.objects.count()
        for m in (Loan, LoanEvent, Payment, JournalEntry, Posting, Installment, AuditEvent)
    )


def pay(loan, amount, on):
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff"
    ).payment


def url(pk, tail) -> str:
    return f"/api/v1/loans/{pk}/{tail}"


def life_row_counts():
    """Rows a payoff quote, fee, waiver or refund writes."""
    return tuple(
        m.objects.count() for m in (PayoffQuote, LoanEvent, JournalEntry, Posting, AuditEvent)
    )


def lifecycle_row_counts():
    """Rows a modification, charge-off, recovery or import writes."""
    return tuple(
        m.objects.count()
        for m in (
            Loan,
            Modification,
            LoanEvent,
            Payment,
            JournalEntry,
            Posting,
            ImportRun,
            AuditEvent,
        )
    )


def limit(product, amount: str) -> None:
    ServicingProduct.objects.filter(pk=product.pk).update(modification_approval_limit=D(amount))
