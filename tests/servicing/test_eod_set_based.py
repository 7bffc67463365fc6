"""The set-based end of day (servicing.services.daily) agrees with the replay.

A small book of loans boarded and paid through the real services (on time,
late, partly, early, with a credit balance, with a backdated payment
reversed) is closed day by day from disbursement for three months; after
every close a full replay (sync_loans) of every loan must find nothing to
post and nothing to change, and verify_ledger must find no mismatch. The
daily accrual figures are worked out by hand below."""

from datetime import date, timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.eod import run_end_of_day
from servicing.models import DelinquencyDay, Installment, JournalEntry, Loan, Posting
from servicing.services.payments import post_payment, reverse_payment
from servicing.services.sync import CACHE_FIELDS, INSTALLMENT_FIELDS, lock_rows, sync_loans
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db

START = date(2026, 1, 15)  # disbursement; instalments of 106.62 due on the 15th
FIELDS = [f for f in CACHE_FIELDS if f != "updated_at"] + ["state", "closed_through"]


def snapshot(loans):
    figures = {row["pk"]: row for row in Loan.objects.filter(pk__in=loans).values("pk", *FIELDS)}
    rows = {
        (loan_id, number): values
        for loan_id, number, *values in Installment.objects.filter(loan_id__in=loans)
        .order_by("loan_id", "number")
        .values_list("loan_id", "number", *INSTALLMENT_FIELDS)
    }
    return figures, rows


def assert_replay_agrees(loans, as_of):
    before = snapshot(loans)
    entries = JournalEntry.objects.count()
    sync_loans(list(lock_rows(loans).values()), as_of=as_of)
    assert JournalEntry.objects.count() == entries, (
        as_of,
        list(JournalEntry.objects.order_by("-id").values_list("loan_id", "source", "key")[:5]),
    )
    after = snapshot(loans)
    changed = [
        (key, field, was[field], now[field])
        for old, new in zip(before, after, strict=True)
        for key, was in old.items()
        for now in [new[key]]
        for field in (was if isinstance(was, dict) else range(len(was)))
        if was[field] != now[field]
    ]
    assert not changed, (as_of, changed)


def pay(loan, amount, on, **kwargs):
    set_business_date(on)
    return post_payment(
        loan=loan, amount=D(amount), received_on=on, method="ach", channel="staff", **kwargs
    )


def test_day_by_day_close_agrees_with_a_full_replay(make_loan):
    on_time = make_loan("APP-1")
    late = make_loan("APP-2")
    partial = make_loan("APP-3")
    early = make_loan("APP-4")
    credit = make_loan("APP-5")
    reversed_ = make_loan("APP-6")
    loans = [x.pk for x in (on_time, late, partial, early, credit, reversed_)]
    payments = {
        date(2026, 2, 15): [(on_time, "106.62", {}), (reversed_, "106.62", {})],
        date(2026, 2, 20): [(early, "300.00", {})],
        date(2026, 3, 1): [(credit, "150.00", {"excess": "unapplied"})],
        date(2026, 3, 5): [(partial, "50.00", {})],
        date(2026, 3, 15): [(on_time, "106.62", {})],
        date(2026, 3, 28): [(late, "106.62", {})],
    }
    day = START
    set_business_date(day)
    while day <= date(2026, 4, 20):
        for loan, amount, kwargs in payments.get(day, []):
            pay(loan, amount, day, **kwargs)
        if day == date(2026, 3, 10):
            payment = reversed_.payments.get()
            reverse_payment(payment=payment, reason="nsf")
        set_business_date(day)
        run = run_end_of_day(day)
        assert run.status == "completed", run.error
        assert_replay_agrees(loans, day)
        day += timedelta(days=1)
    set_business_date(date(2026, 4, 20))  # verify as of the last close
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except CommandError:
        pytest.fail(out.getvalue())
    assert "0 mismatches" in out.getvalue(), out.getvalue()
    assert Loan.objects.filter(pk__in=loans, closed_through=date(2026, 4, 20)).count() == 6


def test_daily_accrual_by_hand(make_loan):
    """1,200.00 at 12% 30/360: instalment 1 (Jan 15 - Feb 15, 31 days) has
    12.00 of interest, accrued straight-line: after day k, round(12 x k / 31)."""
    loan = make_loan()
    day = START
    for _ in range(32):  # Jan 15 .. Feb 15
        set_business_date(day)
        run_end_of_day(day)
        day += timedelta(days=1)
    loan.refresh_from_db()
    daily = list(
        Posting.objects.filter(loan=loan, entry__source__startswith="daily:", account__code="1215")
        .order_by("effective_date")
        .values_list("effective_date", "debit")
    )
    expected, accrued = [], D("0.00")
    for k in range(1, 31):  # Jan 15 .. Feb 13 accrue; Feb 14 reaches 12.00
        target = (D(12) * k / 31).quantize(D("0.01"))
        if target != accrued:
            expected.append((START + timedelta(days=k - 1), target - accrued))
        accrued = target
    target = D("12.00")  # Feb 14: the period's last day
    expected.append((date(2026, 2, 14), target - accrued))
    assert daily[: len(expected)] == expected
    assert sum(d for _, d in daily[: len(expected)]) == D("12.00")
    # Feb 15: instalment 1 falls due: 12.00 moves from accrued to due, no new income
    move = Posting.objects.filter(loan=loan, entry__source="accrual:1").order_by("account__code")
    assert [(p.account.code, p.debit, p.credit) for p in move] == [
        ("1210", D("12.00"), D("0.00")),
        ("1215", D("0.00"), D("12.00")),
    ]
    # and the second period (Feb 15 - Mar 15, 28 days, 11.05 of interest) starts accruing
    assert loan.accrued_interest == (D("11.05") / 28).quantize(D("0.01"))
    assert loan.interest_balance == D("12.00")


def test_rerun_posts_nothing_and_delinquency_is_recorded(make_loan):
    loan = make_loan()
    for day in (date(2026, 2, 14), date(2026, 2, 15), date(2026, 2, 16), date(2026, 2, 17)):
        set_business_date(day)
        run_end_of_day(day)
    posted = JournalEntry.objects.count()
    from servicing.services import daily

    for step in (daily.fall_due, daily.accrue_daily):
        step([loan.pk], date(2026, 2, 17))
    assert JournalEntry.objects.count() == posted
    rows = list(
        DelinquencyDay.objects.filter(loan=loan).values_list(
            "business_date", "days_past_due", "amount_past_due"
        )
    )
    assert rows == [(date(2026, 2, 16), 1, D("106.62")), (date(2026, 2, 17), 2, D("106.62"))]


def test_a_write_catches_up_a_loan_end_of_day_left_behind(make_loan):
    """Closed through Jan 20, then nothing until a payment on Feb 20: the
    payment first closes Jan 21 .. Feb 19 for the loan, in order (the Feb 15
    instalment falls due with its accrued interest), then posts; a full
    replay then finds nothing to change."""
    loan = make_loan()
    day = START
    while day <= date(2026, 1, 20):
        set_business_date(day)
        run_end_of_day(day)
        day += timedelta(days=1)
    set_business_date(date(2026, 2, 20))

    pay(loan, "106.62", date(2026, 2, 20))

    loan.refresh_from_db()
    assert loan.closed_through == date(2026, 2, 19)
    daily = set(
        JournalEntry.objects.filter(loan=loan, source__startswith="daily:").values_list(
            "effective_date", flat=True
        )
    )
    assert {date(2026, 1, 21), date(2026, 2, 14), date(2026, 2, 19)} <= daily
    move = Posting.objects.filter(loan=loan, entry__source="accrual:1").order_by("account__code")
    assert [(p.account.code, p.debit, p.credit) for p in move] == [
        ("1210", D("12.00"), D("0.00")),
        ("1215", D("0.00"), D("12.00")),
    ]
    assert loan.days_past_due == 0  # the payment cured the Feb 15 instalment
    assert_replay_agrees([loan.pk], date(2026, 2, 20))


def test_statements_on_each_loans_own_due_day(make_loan, product):
    """A product cycle of 0 dates each loan's statements on its own due day,
    spreading the book over the month; the step writes rows, not PDFs."""
    from servicing.models import ServicingProduct, Statement
    from servicing.services.statements import statement_pdf

    ServicingProduct.objects.filter(pk=product.pk).update(statement_cycle_day=0)
    on_15th = make_loan("APP-1")  # due on the 15th
    on_3rd = make_loan("APP-2", disbursement_date=date(2026, 1, 3), business_date=date(2026, 1, 3))
    for day in (date(2026, 2, 3), date(2026, 2, 15)):
        set_business_date(day)
        run_end_of_day(day)
    made = dict(Statement.objects.values_list("loan_id", "statement_date"))
    assert made == {on_3rd.pk: date(2026, 2, 3), on_15th.pk: date(2026, 2, 15)}
    statement = Statement.objects.get(loan=on_15th)
    assert bytes(statement.pdf) == b""  # rendered on first download
    assert statement_pdf(statement).startswith(b"%PDF")


def test_one_failing_loan_is_recorded_and_skipped_then_closed_on_a_rerun(make_loan, customer):
    """A loan whose product lost its accrued-interest account cannot post its
    accrual (the entry would not balance): the set-based chunk fails, core.eod
    retries halves of it down to that loan, records it and commits the rest;
    once the chart is mended, running the date again closes that loan only."""
    from core.models import EodFailure
    from servicing.boarding import BoardingTerms, board_loan
    from servicing.models import ProductAccount
    from servicing.services.products import create_product

    broken = create_product(code="broken", name="Broken chart")
    good = [make_loan(f"APP-{i}") for i in range(3)]
    bad = board_loan(
        terms=BoardingTerms(
            origination_reference="APP-9",
            customer_id=customer.pk,
            product_id=broken.pk,
            principal=D("1200.00"),
            annual_rate=D("0.12"),
            term=12,
            disbursement_date=START,
        )
    )
    mapping = ProductAccount.objects.get(product=broken, role="accrued_interest")
    account = mapping.account_id
    mapping.delete()
    day = date(2026, 1, 20)
    set_business_date(day)

    run = run_end_of_day(day, advance=False)

    assert run.status == "completed_with_failures", run.error
    [failure] = EodFailure.objects.filter(run=run)
    assert (failure.step, failure.object_id) == ("accrue", bad.pk)
    assert "unbalanced" in failure.error
    closed = dict(Loan.objects.values_list("pk", "closed_through"))
    assert all(closed[loan.pk] == day for loan in good)
    assert closed[bad.pk] is None

    ProductAccount.objects.create(product=broken, role="accrued_interest", account_id=account)
    run_end_of_day(day, advance=False)
    bad.refresh_from_db()
    assert bad.closed_through == day
    assert JournalEntry.objects.filter(loan=bad, source="daily:2026-01-20").count() == 1
