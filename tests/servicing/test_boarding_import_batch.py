"""The set-based boarding import (chunks through board_loans and
post_payments) reaches exactly what boarding each row one by one
(board_loan + the cut-over payment through post_payment) reaches: loans,
schedules, ledger, payments and audit; bad rows are reported with their
reasons and roll back whole; re-importing boards nothing twice."""

import io
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.finance import build_schedule
from core.models import AuditEvent
from core.money import format_money
from servicing.boarding import BoardingTerms, board_loan, engine_terms
from servicing.models import ImportRun, Installment, JournalEntry, Loan, LoanEvent, Payment
from servicing.services import imports
from servicing.services.imports import import_boarding_csv
from servicing.services.payments import post_payment
from servicing.services.sync import CACHE_FIELDS, INSTALLMENT_FIELDS
from tests.servicing.conftest import set_business_date

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = (
    "origination_reference,customer_number,product_code,principal,annual_rate,term,"
    "disbursement_date,first_payment_date,cutover_date,principal_paid,interest_paid\n"
)
TODAY = date(2026, 6, 30)
DISBURSED = date(2026, 1, 15)


def _good_rows(product, count=52):
    """(reference, principal, rate %, term, instalments paid, paid principal,
    paid interest, cut-over) for loans whose paid split agrees with our
    schedule (0 to 4 instalments paid on their due dates)."""
    out = []
    for i in range(count):
        principal = D(1000 + 137 * i).quantize(D("0.01"))
        rate = D(["12", "9.5", "18", "0"][i % 4])
        term = [12, 24, 36][i % 3]
        paid = i % 5
        schedule = engine_terms(
            BoardingTerms(
                origination_reference="x",
                customer_id=0,
                product_id=product.pk,
                principal=principal,
                annual_rate=(rate / 100).quantize(D("0.000001")),
                term=term,
                disbursement_date=DISBURSED,
            ),
            product,
        )
        rows = build_schedule(schedule).rows[:paid]
        cutover = rows[-1].due_date if rows else date(2026, 2, 1)
        out.append(
            (
                f"MIG-{i:03d}",
                principal,
                rate,
                term,
                sum((r.principal for r in rows), D("0.00")),
                sum((r.interest for r in rows), D("0.00")),
                cutover,
            )
        )
    return out


def _line(ref, customer_number, principal, rate, term, pp, ip, cutover, product="personal"):
    return (
        f"{ref},{customer_number},{product},{principal},{rate},{term},"
        f"{DISBURSED},,{cutover},{pp},{ip}\n"
    )


def _file(customer, good):
    c = customer.customer_number
    lines = [_line(ref, c, *rest) for ref, *rest in good]
    bad = {
        # reference: (row, expected reason)
        "BAD-CUSTOMER": (
            _line("BAD-CUSTOMER", "C-999999", "1000.00", "12", 12, 0, 0, DISBURSED),
            "Unknown customer 'C-999999'.",
        ),
        "BAD-PRINCIPAL": (
            _line("BAD-PRINCIPAL", c, "lots", "12", 12, 0, 0, DISBURSED),
            "principal 'lots' is not a number.",
        ),
        "BAD-FUTURE": (
            _line("BAD-FUTURE", c, "1000.00", "12", 12, 0, 0, date(2026, 7, 1)),
            "cutover_date 2026-07-01 is after the business date 2026-06-30.",
        ),
        "BAD-TERMS": (
            f"BAD-TERMS,{c},personal,1000.00,12,12,{DISBURSED},{DISBURSED},{DISBURSED},0,0\n",
            "The loan terms are not valid. "
            "(first_payment_date: must be after the disbursement date)",
        ),
        # the same total split differently from our schedule: boarded, paid,
        # checked and rolled back whole (the rest of its chunk is redone)
        "BAD-SPLIT": (
            _line("BAD-SPLIT", c, "1200.00", "12", 12, "193.24", "20.00", date(2026, 3, 15)),
            "After the cut-over payment the principal balance is 1,009.81, not 1,006.76: "
            "the paid split does not match this product's schedule.",
        ),
    }
    # spread the bad rows through the file (different chunks)
    for n, (row, _) in enumerate(bad.values()):
        lines.insert(7 + n * 11, row)
    lines.insert(30, _line("MIG-000", c, "999.00", "12", 12, 0, 0, DISBURSED))  # repeated ref
    return HEADER + "".join(lines), {ref: reason for ref, (_, reason) in bad.items()}


def _board_one_by_one(customer, product, good, prefix="SEQ-"):
    """Each good row boarded the one-by-one way, under another reference."""
    loans = {}
    for ref, principal, rate, term, pp, ip, cutover in good:
        loan = board_loan(
            terms=BoardingTerms(
                origination_reference=prefix + ref,
                customer_id=customer.pk,
                product_id=product.pk,
                principal=principal,
                annual_rate=(rate / 100).quantize(D("0.000001")),
                term=term,
                disbursement_date=DISBURSED,
                underwriting_notes="Migrated from another servicing system.",
            )
        )
        if pp + ip > 0:
            post_payment(
                loan=loan,
                amount=pp + ip,
                received_on=cutover,
                method="ach",
                channel="batch",
                reference="cut-over paid history",
                excess="prepayment",
                idempotency_key=f"cutover:{prefix}{ref}",
            )
        loans[ref] = loan.pk
    return loans


def _snapshot(loan_id):
    """Everything observable of a loan except ids, numbers and references."""
    loan = Loan.objects.get(pk=loan_id)
    fields = (
        "principal",
        "annual_rate",
        "term",
        "disbursement_date",
        "first_payment_date",
        "disbursed_amount",
        "terms",
        "state",
        "underwriting_notes",
        *(f for f in CACHE_FIELDS if f != "updated_at"),
    )
    installments = list(
        Installment.objects.filter(loan_id=loan_id)
        .order_by("number")
        .values_list("number", *INSTALLMENT_FIELDS)
    )
    entries = sorted(
        (
            entry.entry_type,
            entry.effective_date,
            tuple(
                sorted(
                    (p.account.code, p.component, p.installment_number, p.debit, p.credit)
                    for p in entry.postings.all()
                )
            ),
        )
        for entry in JournalEntry.objects.filter(loan_id=loan_id).prefetch_related(
            "postings__account"
        )
    )
    payments = list(
        Payment.objects.filter(loan_id=loan_id).values_list(
            "amount", "received_on", "method", "channel", "reference", "excess", "status"
        )
    )
    events = list(
        LoanEvent.objects.filter(loan_id=loan_id)
        .order_by("effective_date", "id")
        .values_list("kind", "effective_date", "amount", "details")
    )
    audit = Counter(
        AuditEvent.objects.filter(object_type="servicing.loan", object_id=str(loan_id)).values_list(
            "action", flat=True
        )
    )
    return (
        tuple(getattr(loan, f) for f in fields),
        installments,
        entries,
        payments,
        events,
        audit,
    )


def test_batch_boarding_matches_one_by_one_reports_bad_rows_and_rerun_boards_nothing(
    product, customer, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK", 20)  # several chunks in a small file
    set_business_date(TODAY)
    good = _good_rows(product)
    text, bad = _file(customer, good)

    result = import_boarding_csv(text=text, filename="migration.csv")

    assert [r["origination_reference"] for r in result.accepted] == [ref for ref, *_ in good]
    rejected = {r["origination_reference"]: r["reason"] for r in result.rejected}
    assert set(rejected) == set(bad)
    assert rejected == bad
    assert [(r["origination_reference"], r["reason"]) for r in result.duplicates] == [
        ("MIG-000", "Already boarded.")
    ]
    run = result.run
    assert (run.kind, run.rows, run.accepted, run.duplicates, run.rejected) == (
        "boarding",
        len(good) + len(bad) + 1,
        len(good),
        1,
        len(bad),
    )
    # bad rows (the split one too) left nothing behind
    assert set(Loan.objects.values_list("origination_reference", flat=True)) == {
        ref for ref, *_ in good
    }
    assert not Payment.objects.filter(idempotency_key="cutover:BAD-SPLIT").exists()

    # the reported balances are the loans' and principal - principal_paid
    for row, (ref, principal, _, _, pp, _, _) in zip(result.accepted, good, strict=True):
        loan = Loan.objects.get(origination_reference=ref)
        assert row["loan_number"] == loan.loan_number
        assert D(row["principal_balance"]) == loan.principal_balance == principal - pp

    # the same rows boarded one by one reach exactly the same loans
    imported = dict(
        Loan.objects.filter(origination_reference__startswith="MIG-").values_list(
            "origination_reference", "pk"
        )
    )
    sequential = _board_one_by_one(customer, product, good)
    for ref, *_ in good:
        batch, seq = _snapshot(imported[ref]), _snapshot(sequential[ref])
        # the importer's own audit event comes on top of board_loan's and post_payment's
        assert batch[5].pop("loan.migrated") == 1 and batch[5]["loan.boarded"] == 1
        assert batch == seq, ref
    paid = [ref for ref, _, _, _, pp, ip, _ in good if pp + ip]
    assert Payment.objects.filter(loan_id__in=imported.values()).count() == len(paid) > 30
    assert (
        Installment.objects.filter(loan_id__in=imported.values(), status="paid").count()
        == sum(i % 5 for i in range(len(good)))
        > 0
    )

    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "0 mismatches" in out.getvalue()

    # re-importing boards nothing twice
    counts = (
        Loan.objects.count(),
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
    )
    again = import_boarding_csv(text=text, filename="migration.csv")
    assert again.accepted == []
    assert sorted(r["origination_reference"] for r in again.duplicates) == sorted(
        [ref for ref, *_ in good] + ["MIG-000"]
    )
    assert {r["origination_reference"] for r in again.rejected} == set(bad)
    assert (
        Loan.objects.count(),
        Payment.objects.count(),
        LoanEvent.objects.count(),
        JournalEntry.objects.count(),
    ) == counts
    assert ImportRun.objects.filter(kind="boarding").count() == 2


def test_a_chunk_failing_on_a_database_error_is_boarded_row_by_row(product, customer):
    """A cut-over idempotency key already taken makes the chunk's bulk insert
    fail on the unique index: the chunk is redone row by row, the good rows
    are boarded and the row whose key is taken is reported and rolled back."""
    set_business_date(TODAY)
    good = _good_rows(product, count=6)
    # Another loan already holds MIG-003's cut-over key.
    other = board_loan(
        terms=BoardingTerms(
            origination_reference="OTHER",
            customer_id=customer.pk,
            product_id=product.pk,
            principal=D("500.00"),
            annual_rate=D("0.10"),
            term=6,
            disbursement_date=DISBURSED,
        )
    )
    post_payment(
        loan=other,
        amount=D("10.00"),
        received_on=date(2026, 3, 1),
        method="ach",
        channel="batch",
        idempotency_key="cutover:MIG-003",
    )
    c = customer.customer_number
    text = HEADER + "".join(_line(ref, c, *rest) for ref, *rest in good)

    result = import_boarding_csv(text=text, filename="clash.csv")

    assert [r["origination_reference"] for r in result.accepted] == [
        "MIG-000",
        "MIG-001",
        "MIG-002",
        "MIG-004",
        "MIG-005",
    ]
    [refused] = result.rejected
    ref, principal, _, _, pp, _, _ = good[3]
    assert refused["origination_reference"] == ref
    assert refused["reason"] == (
        f"After the cut-over payment the principal balance is {format_money(principal)}, "
        f"not {format_money(principal - pp)}: "
        "the paid split does not match this product's schedule."
    )
    assert not Loan.objects.filter(origination_reference="MIG-003").exists()
    sequential = _board_one_by_one(customer, product, [g for g in good if g[0] != "MIG-003"])
    for row in result.accepted:
        loan = Loan.objects.get(origination_reference=row["origination_reference"])
        batch = _snapshot(loan.pk)
        assert batch[5].pop("loan.migrated") == 1
        assert batch == _snapshot(sequential[row["origination_reference"]])
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "0 mismatches" in out.getvalue()


def test_references_sharing_a_long_prefix_board_set_based(product, customer):
    """board_loans names a new loan "PENDING-<reference>" cut to 20
    characters until it has its id; references alike in those characters
    are boarded by separate calls in the chunk, not row by row."""
    set_business_date(TODAY)
    good = [(f"LEGACY-SYSTEM-{i}", *rest) for i, (_, *rest) in enumerate(_good_rows(product, 12))]
    c = customer.customer_number
    text = HEADER + "".join(_line(ref, c, *rest) for ref, *rest in good)

    result = import_boarding_csv(text=text, filename="long.csv")

    assert [r["origination_reference"] for r in result.accepted] == [ref for ref, *_ in good]
    assert not result.rejected and not result.duplicates
    boarded = AuditEvent.objects.filter(action="loan.boarded")
    assert boarded.count() == 12
    assert all(e.metadata.get("batch") is True for e in boarded)  # board_loans, not board_loan
    for row, (ref, principal, _, _, pp, _, _) in zip(result.accepted, good, strict=True):
        assert Loan.objects.get(loan_number=row["loan_number"]).origination_reference == ref
        assert D(row["principal_balance"]) == principal - pp
