"""Concurrency on real PostgreSQL with real threads: payments on one loan
serialise on the loan's row lock, and concurrent repeats of one
Idempotency-Key write exactly one payment.

Each test holds the loan's row lock in the main thread while the workers
start, and waits until every worker is blocked on a lock before releasing
it, so the race is certain rather than hoped for. Every worker closes its
own database connection when it ends.
"""

import secrets
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client

from servicing.models import Installment, JournalEntry, Loan, LoanEvent, Payment
from servicing.selectors.ledger import balances_by_role
from servicing.services.locks import lock_loan
from servicing.services.payments import post_payment
from servicing.services.sync import sync_loan
from tests.factories import UserFactory
from tests.servicing.conftest import set_business_date
from users.authentication import hash_secret
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def lock_waiters() -> int:
    """Sessions of this test database currently blocked on a lock."""
    with connection.cursor() as cursor:
        # Within a transaction, pg_stat_activity is a snapshot taken on first
        # use; drop it so that every poll sees the present.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def race(loan_id: int, workers: int, work) -> list:
    """Run work(i) in `workers` threads that all queue on the loan's row lock
    (held here until every one of them waits), then release them together.
    Returns the results in worker order; re-raises any worker's exception."""
    results: list = [None] * workers
    errors: list = []

    def run(i):
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    with transaction.atomic():
        lock_loan(loan_id)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while lock_waiters() < workers and time.monotonic() < deadline:
            time.sleep(0.02)
        waiting = lock_waiters()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"
    if errors:
        raise errors[0]
    assert waiting == workers, f"only {waiting} of {workers} workers queued on the lock"
    return results


def assert_ledger_balanced():
    for entry in JournalEntry.objects.prefetch_related("postings"):
        postings = list(entry.postings.all())
        assert sum(p.debit for p in postings) == sum(p.credit for p in postings), entry.key


def snapshot(loan: Loan) -> dict:
    loan.refresh_from_db()
    return {
        "balances": (
            loan.state,
            loan.principal_balance,
            loan.interest_balance,
            loan.fees_balance,
            loan.penalties_balance,
            loan.unapplied_balance,
            loan.overpayment_balance,
            loan.days_past_due,
            loan.next_due_date,
            loan.next_due_amount,
        ),
        "roles": balances_by_role(loan),
        "installments": list(
            Installment.objects.filter(loan=loan)
            .order_by("number")
            .values_list(
                "number", "due_date", "principal_due", "principal_paid", "interest_paid", "status"
            )
        ),
    }


def test_two_payments_at_once_serialise(make_loan):
    loan = make_loan("APP-RACE")
    twin = make_loan("APP-SEQ")
    set_business_date(date(2026, 2, 15))
    amounts = [D("106.62"), D("50.00")]

    def pay(i):
        return post_payment(
            loan=Loan.objects.get(pk=loan.pk),
            amount=amounts[i],
            received_on=date(2026, 2, 15),
            method="ach",
            channel="api",
        )

    results = race(loan.pk, 2, pay)
    assert all(result.created for result in results)
    assert Payment.objects.filter(loan=loan).count() == 2

    # The same payments one after the other, in the order the race settled.
    for event in LoanEvent.objects.filter(loan=loan).order_by("id"):
        post_payment(
            loan=twin,
            amount=event.amount,
            received_on=event.effective_date,
            method="ach",
            channel="api",
        )
    raced, sequential = snapshot(loan), snapshot(twin)
    assert raced == sequential
    # 156.62: instalment 1 (12.00 interest + 94.62 principal) and 50.00 prepaid.
    assert raced["balances"][1:4] == (D("1055.38"), D("0.00"), D("0.00"))
    assert_ledger_balanced()
    # Nothing was left half-posted: syncing again posts nothing.
    entries = JournalEntry.objects.count()
    with transaction.atomic():
        sync_loan(loan=lock_loan(loan.pk))
    assert JournalEntry.objects.count() == entries


def test_one_idempotency_key_from_twenty_clients_writes_one_payment(make_loan):
    loan = make_loan("APP-IDEM")
    set_business_date(date(2026, 2, 15))
    secret, prefix = secrets.token_urlsafe(32), secrets.token_hex(4)
    owner = UserFactory(kind=User.Kind.INTEGRATION)
    ApiKey.objects.create(
        name="Payments gateway",
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=["loans:read", "loans:write"],
        user=owner,
        created_by=owner,
    )
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {prefix}.{secret}"}
    # One call first so that no worker updates the key's last_used_at.
    assert Client(**auth).get(f"/api/v1/loans/{loan.pk}/").status_code == 200
    body = {"amount": "106.62", "method": "ach", "reference": "GW-77"}

    def post(_i):
        response = Client(**auth).post(
            f"/api/v1/loans/{loan.pk}/payments/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="gw-77-2026-02-15",
        )
        return response.status_code, response.json()

    results = race(loan.pk, 20, post)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [201], [r[1] for r in results if r[0] not in (200, 201)]
    payment = Payment.objects.get()
    assert {body["id"] for _, body in results} == {payment.pk}
    first = next(body for status, body in results if status == 201)
    assert all(body == first for _, body in results)
    assert LoanEvent.objects.filter(loan=loan).count() == 1
    assert JournalEntry.objects.filter(loan=loan, source=f"event:{payment.event_id}").count() == 1
    loan.refresh_from_db()
    assert loan.principal_balance == D("1105.38")
    assert_ledger_balanced()
