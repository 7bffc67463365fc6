"""Stateful property test: random sequences of life events on one loan keep
the ledger, the cached balances and a fresh replay in agreement.

Each hypothesis example runs inside a transaction that is rolled back in
teardown, so examples never see each other's loans or business dates.
"""

import contextlib
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.businessdate import get_business_date
from core.exceptions import DomainError
from core.money import ZERO
from servicing.boarding import BoardingTerms, board_loan
from servicing.management.commands.verify_ledger import LEDGER_FIELDS
from servicing.models import JournalEntry, Loan, LoanState, Payment, Posting, ProductAccount
from servicing.selectors.ledger import balances_by_role
from servicing.services.fees import assess_fee, waivable, waive_fee
from servicing.services.locks import lock_loan
from servicing.services.modifications import propose_modification
from servicing.services.payments import post_payment, reverse_payment
from servicing.services.sync import replay_loan, sync_loan
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db(transaction=False)
D = Decimal

DISBURSED = date(2026, 1, 15)
LAST_DAY = date(2027, 3, 1)  # past the 12-month term: the business date stops here
CENTS = st.integers(min_value=100, max_value=40000).map(lambda c: D(c) / 100)


def replay_fields(state) -> dict:
    return {
        "principal_balance": state.principal_outstanding,
        "interest_balance": state.interest_due_unpaid,
        "fees_balance": state.fees_due_unpaid,
        "penalties_balance": state.penalties_due_unpaid,
        "unapplied_balance": state.unapplied_credit,
        "overpayment_balance": state.overpayment,
        "days_past_due": state.days_past_due,
    }


class LoanMachine(RuleBasedStateMachine):
    """One boarded loan (1,200.00 at 12% over 12 months) and its life events."""

    product = None
    customer = None

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        set_business_date(DISBURSED)
        self.loan = board_loan(
            terms=BoardingTerms(
                origination_reference="PROP-1",
                customer_id=self.customer.pk,
                product_id=self.product.pk,
                principal=D("1200.00"),
                annual_rate=D("0.12"),
                term=12,
                disbursement_date=DISBURSED,
            )
        )

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- helpers -------------------------------------------------------------

    def _today(self) -> date:
        return get_business_date()

    def _day_between(self, first: date, fraction: float) -> date:
        span = (self._today() - first).days
        return first + timedelta(days=int(span * fraction))

    def _pay(self, amount: Decimal, on: date) -> None:
        # a refused action (ValidationFailed, Conflict...) writes nothing
        with contextlib.suppress(DomainError):
            post_payment(
                loan=self.loan, amount=amount, received_on=on, method="ach", channel="staff"
            )

    # -- rules ---------------------------------------------------------------

    @rule(days=st.integers(min_value=1, max_value=45))
    def advance_business_date(self, days):
        new = min(self._today() + timedelta(days=days), LAST_DAY)
        if new > self._today():
            set_business_date(new)
            with transaction.atomic():  # what end-of-day does for every loan
                sync_loan(loan=lock_loan(self.loan.pk))

    @rule(amount=CENTS, fraction=st.floats(min_value=0, max_value=1))
    def post_payment(self, amount, fraction):
        self._pay(amount, self._day_between(DISBURSED, fraction))

    @rule(amount=CENTS, days_back=st.integers(min_value=1, max_value=120))
    def backdated_payment(self, amount, days_back):
        self._pay(amount, max(DISBURSED, self._today() - timedelta(days=days_back)))

    @rule(data=st.data(), reason=st.sampled_from(["posting_error", "nsf"]))
    def reverse_a_payment(self, data, reason):
        posted = list(
            Payment.objects.filter(loan=self.loan, status=Payment.Status.POSTED).order_by("pk")
        )
        if not posted:
            return
        payment = data.draw(st.sampled_from(posted), label="payment")
        with contextlib.suppress(DomainError):
            reverse_payment(payment=payment, reason=reason, note="property test")

    @rule(amount=st.integers(min_value=100, max_value=5000).map(lambda c: D(c) / 100))
    def assess_fee(self, amount):
        with contextlib.suppress(DomainError):
            assess_fee(loan=self.loan, amount=amount, kind="other", note="property test")

    @rule(data=st.data())
    def waive_part_of_a_fee(self, data):
        open_fees = sorted(waivable(self.loan).items())
        if not open_fees:
            return
        fee_id, left = data.draw(st.sampled_from(open_fees), label="fee")
        cents = data.draw(st.integers(min_value=1, max_value=int(left * 100)), label="cents")
        with contextlib.suppress(DomainError):
            waive_fee(loan=self.loan, fee_event_id=fee_id, amount=D(cents) / 100, reason="goodwill")

    @rule(rate=st.integers(min_value=500, max_value=2000).map(lambda bp: D(bp) / 10000))
    def modify_rate(self, rate):
        self.loan.refresh_from_db()
        if self.loan.state != LoanState.ACTIVE:
            return
        with contextlib.suppress(DomainError):
            propose_modification(
                loan=self.loan,
                user=None,
                effective_date=self._today(),
                annual_rate=rate,
                note="property test",
            )

    # -- invariants ----------------------------------------------------------

    @invariant()
    def every_entry_balances(self):
        unbalanced = (
            JournalEntry.objects.filter(loan=self.loan)
            .annotate(d=Sum("postings__debit"), c=Sum("postings__credit"))
            .values_list("key", "d", "c")
        )
        assert [(k, d, c) for k, d, c in unbalanced if d != c] == []

    @invariant()
    def caches_equal_ledger_and_replay(self):
        loan = Loan.objects.get(pk=self.loan.pk)
        roles = balances_by_role(loan)
        for field, (role, sign) in LEDGER_FIELDS.items():
            assert getattr(loan, field) == sign * roles[role], field
        for field, value in replay_fields(replay_loan(loan)).items():
            assert getattr(loan, field) == value, field
        assert loan.principal_balance >= ZERO

    @invariant()
    def resync_posts_nothing(self):
        before = JournalEntry.objects.filter(loan=self.loan).count()
        with transaction.atomic():
            sync_loan(loan=lock_loan(self.loan.pk))
        assert JournalEntry.objects.filter(loan=self.loan).count() == before

    @invariant()
    def postings_from_scratch_equal_balances(self):
        role_of = dict(
            ProductAccount.objects.filter(product=self.loan.product).values_list(
                "account_id", "role"
            )
        )
        sums = defaultdict(lambda: ZERO)
        for posting in Posting.objects.filter(loan=self.loan):
            sums[role_of[posting.account_id]] += posting.debit - posting.credit
        roles = balances_by_role(self.loan)
        assert {r: v for r, v in sums.items() if v} == {r: v for r, v in roles.items() if v}


def test_random_life_events_keep_ledger_caches_and_replay_in_agreement(product, customer):
    LoanMachine.product = product
    LoanMachine.customer = customer
    run_state_machine_as_test(
        LoanMachine,
        settings=settings(max_examples=15, stateful_step_count=12, deadline=None),
    )
