"""The one doorway from origination into servicing.

`board_loan(terms=BoardingTerms(...), acting_user=...)` creates the loan, its
schedule, the opening disbursement postings and an audit event. It runs in
the caller's transaction (origination calls it inside the disbursement's),
and it is idempotent on the origination reference: boarding the same
reference again returns the loan boarded the first time.

Every party of the loan arrives with it: the primary borrower
(`customer_id`) and any co-borrowers or guarantors (`parties`) become
LoanParty rows in the same transaction, and so do the conditions and the
document references origination kept.
"""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from core import audit
from core.audit import actor_of
from core.bulk import gc_paused, insert_all, update_rows
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.finance import (
    ENGINE_SETTINGS,
    FeeTreatment,
    LoanTerms,
    Schedule,
    TermsError,
    build_schedule,
    product_terms,
)
from core.models import AuditCategory
from core.money import format_money
from customers.models import Customer
from servicing.models import (
    Installment,
    JournalEntry,
    Loan,
    LoanParty,
    PartyRole,
    ServicingProduct,
)
from servicing.selectors.loans import co_party_pairs, loan_by_origination_reference
from servicing.services.ledger import EntrySpec, Line, post_entries
from servicing.services.sync import refresh_statistics, sync_loans


def _pending_number() -> str:
    """A unique placeholder loan number until the row has its id (then
    L-<id>): random, so loans boarded together never collide on it."""
    return f"PENDING-{uuid.uuid4().hex[:12]}"


# Roles a further party may board with; the primary borrower is `customer_id`.
EXTRA_PARTY_ROLES = (PartyRole.CO_BORROWER.value, PartyRole.GUARANTOR.value)


@dataclass(frozen=True)
class BoardingParty:
    """A party of the loan besides the primary borrower: a customer id and a
    role ("co_borrower"; "guarantor" is accepted for later products)."""

    customer_id: int
    role: str = PartyRole.CO_BORROWER.value


@dataclass(frozen=True)
class BoardingTerms:
    """Everything servicing needs, as plain values (no origination objects).

    `annual_rate` is a decimal fraction (0.0725). Engine options left as
    None take the servicing product's settings. `documents` are references
    to documents origination keeps: {"name", "kind", "sha256", "reference"}
    (uploads also carry "status"). `customer_id` is the primary borrower;
    `parties` are the others, in order (BoardingParty). `conditions` are
    origination's conditions: {"text", "status", "note", "reference"}.
    `disbursed_amount`, when given, must equal the engine's (principal less
    withheld fees): a mismatch means the two sides disagree about the terms.
    `schedule`: the engine schedule the caller already built on these terms
    (origination's disbursement); used when its terms are the loan's, so
    the schedule is not built again.
    """

    origination_reference: str
    customer_id: int
    product_id: int
    principal: Decimal
    annual_rate: Decimal
    term: int
    disbursement_date: date
    first_payment_date: date | None = None
    repayment_every: int | None = None
    repayment_unit: str | None = None
    interest_method: str | None = None
    amortization: str | None = None
    day_count: str | None = None
    installment_multiple: Decimal | None = None
    rounding: str | None = None
    installment_method: str | None = None
    equal_principal_rounding: str | None = None
    grace_principal_periods: int = 0
    grace_interest_periods: int = 0
    interest_free_periods: int = 0
    balloon_amount: Decimal = Decimal("0.00")
    fees: tuple[dict, ...] = ()
    disbursed_amount: Decimal | None = None
    underwriting_notes: str = ""
    documents: tuple[dict, ...] = field(default_factory=tuple)
    parties: tuple[BoardingParty, ...] = ()
    conditions: tuple[dict, ...] = ()
    schedule: Schedule | None = None

    def customer_ids(self) -> list[int]:
        """Every party's customer id, the primary borrower first."""
        return [self.customer_id, *(p.customer_id for p in self.parties)]


def check_parties(terms: BoardingTerms) -> None:
    """ValidationFailed (code invalid_parties) for an unknown role, or a
    customer named twice (a customer is a party of a loan once)."""
    errors = []
    for party in terms.parties:
        if party.role not in EXTRA_PARTY_ROLES:
            errors.append(
                f"Customer {party.customer_id}: role {party.role!r} is not one of "
                f"{', '.join(EXTRA_PARTY_ROLES)} (the primary borrower is customer_id)."
            )
    ids = terms.customer_ids()
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        errors.append(f"Customer {', '.join(map(str, twice))} is named more than once.")
    if any(not str(c.get("text", "")).strip() for c in terms.conditions):
        errors.append("A condition has no text.")
    if errors:
        raise ValidationFailed(
            f"{terms.origination_reference}: the loan's parties are not valid.",
            code="invalid_parties",
            fields={"parties": errors},
        )


def party_rows(loan: Loan, terms: BoardingTerms) -> list[LoanParty]:
    """The loan's LoanParty rows (unsaved): borrower first, then the others."""
    return [
        LoanParty(loan=loan, customer_id=terms.customer_id, role=PartyRole.BORROWER, ordering=0),
        *(
            LoanParty(loan=loan, customer_id=p.customer_id, role=p.role, ordering=i)
            for i, p in enumerate(terms.parties, start=1)
        ),
    ]


def _party_metadata(terms: BoardingTerms) -> list[dict]:
    return [{"customer_id": terms.customer_id, "role": PartyRole.BORROWER.value}] + [
        {"customer_id": p.customer_id, "role": p.role} for p in terms.parties
    ]


def engine_terms(terms: BoardingTerms, product: ServicingProduct) -> LoanTerms:
    """The engine's LoanTerms for a boarding request (core.finance.product_terms:
    the servicing product fills the engine settings the request leaves None)."""
    try:
        return product_terms(
            product,
            principal=terms.principal,
            annual_rate=terms.annual_rate,
            term=terms.term,
            disbursement_date=terms.disbursement_date,
            first_payment_date=terms.first_payment_date,
            fees=terms.fees,
            settings={name: getattr(terms, name) for name in ENGINE_SETTINGS},
            grace_principal_periods=terms.grace_principal_periods,
            grace_interest_periods=terms.grace_interest_periods,
            interest_free_periods=terms.interest_free_periods,
            balloon_amount=terms.balloon_amount,
        )
    except TermsError as exc:
        raise ValidationFailed(
            "The loan terms are not valid.",
            code="invalid_terms",
            fields={k: [v] for k, v in exc.errors.items()},
        ) from exc


def terms_json(terms: LoanTerms) -> dict:
    """LoanTerms as JSON-safe plain values (stored on the loan)."""
    out = {}
    for key, value in asdict(terms).items():
        if key == "fees":
            value = [
                {
                    "name": f["name"],
                    "amount": str(f["amount"]),
                    "treatment": str(f["treatment"]),
                    "finance_charge": f["finance_charge"],
                }
                for f in value
            ]
        elif isinstance(value, Decimal | date) or (
            value is not None and not isinstance(value, int | bool)
        ):
            value = str(value)
        out[key] = value
    return out


def _disbursement_lines(terms: LoanTerms, loan_amount: Decimal, disbursed: Decimal) -> list[Line]:
    """Dr principal receivable (the note), Cr cash (what the borrower got),
    Cr fee income (fees withheld or financed); fees paid separately at
    closing come in as cash and go to fee income too."""
    lines = [
        Line("principal_receivable", loan_amount, "principal"),
        Line("cash_clearing", -disbursed),
    ]
    earned = sum(
        (f.amount for f in terms.fees if f.treatment != FeeTreatment.PAID_SEPARATELY),
        Decimal("0.00"),
    )
    if earned:
        lines.append(Line("fee_income", -earned))
    separate = sum(
        (f.amount for f in terms.fees if f.treatment == FeeTreatment.PAID_SEPARATELY),
        Decimal("0.00"),
    )
    if separate:
        lines += [Line("cash_clearing", separate), Line("fee_income", -separate)]
    return lines


def board_loan(*, terms: BoardingTerms, acting_user=None) -> Loan:
    """Board a funded loan (idempotent on `terms.origination_reference`):
    `board_loans` for a list of one, with the same refusals.

    Raises NotFound for an unknown customer or product, ValidationFailed for
    terms the engine refuses, Conflict if `disbursed_amount` disagrees with
    the engine. Locks nothing up front: a concurrent boarding of the same
    reference waits on the unique index and then returns the first loan."""
    [loan] = board_loans(terms=[terms], acting_user=acting_user, batch=False)
    return loan


def servicing_products() -> list[dict]:
    """The active servicing products loans can board onto: [{"id", "code",
    "version", "name"}] (origination stores the id on its loan products)."""
    return list(
        ServicingProduct.objects.filter(is_active=True)
        .order_by("code", "-version")
        .values("id", "code", "version", "name")
    )


def servicing_product_for(code: str) -> int | None:
    """The id of the latest active version of servicing product `code`, or None."""
    return (
        ServicingProduct.objects.filter(code=code, is_active=True)
        .order_by("-version")
        .values_list("id", flat=True)
        .first()
    )


@gc_paused()
def board_loans(*, terms: list[BoardingTerms], acting_user=None, batch: bool = True) -> list[Loan]:
    """Board funded loans (one, or many at once for migrations and bulk
    funding) with a fixed number of queries per call: each loan, its
    parties, schedule, disbursement entry and audit event, then one sync.

    All-or-nothing in the caller's transaction: any unknown product or
    customer, or terms the engine refuses, raises and nothing is written
    (NotFound for an unknown customer or product, ValidationFailed for terms
    the engine refuses, Conflict if `disbursed_amount` disagrees with the
    engine; boarding several, the message names the reference). Idempotent
    per origination reference: references already boarded return their
    existing loans. Locks nothing up front: a concurrent boarding of the
    same reference waits on the unique index, and then its loan is returned.
    Returns loans in the order of `terms`. `batch` marks the audit events as
    boarded in a batch."""
    refs = [t.origination_reference for t in terms]
    if len(set(refs)) != len(refs):
        raise ValidationFailed(
            "An origination reference appears twice.",
            fields={"origination_reference": ["Each loan needs its own reference."]},
        )
    if len(terms) > 1:
        refresh_statistics()  # a batch reads its loans' rows by `loan_id IN (...)`
    with transaction.atomic():
        while True:
            existing = {
                loan.origination_reference: loan
                for loan in Loan.objects.filter(origination_reference__in=refs)
            }
            new = _new_loans(
                [t for t in terms if t.origination_reference not in existing],
                actor_of(acting_user),
                many=len(terms) > 1,
            )
            if not new:
                return [existing[ref] for ref in refs]
            try:
                with transaction.atomic():
                    loans = Loan.objects.bulk_create([loan for loan, _, _, _ in new])
                break
            except IntegrityError:
                # Another transaction boarded one of these references first
                # (the insert waited on its unique index until it committed):
                # take its loan and board the others.
                if not Loan.objects.filter(
                    origination_reference__in=[loan.origination_reference for loan, *_ in new]
                ).exists():
                    raise
        for loan in loans:
            loan.loan_number = f"L-{loan.pk:07d}"
        update_rows(Loan, ["loan_number"], [(loan.pk, loan.loan_number) for loan in loans])
        insert_all([row for loan, _, _, t in new for row in party_rows(loan, t)])
        insert_all(
            [
                Installment(
                    loan=loan,
                    number=row.number,
                    due_date=row.due_date,
                    principal_due=row.principal,
                    interest_due=row.interest,
                    fees_due=row.fees,
                )
                for loan, _, schedule, _ in new
                for row in schedule.rows
            ]
        )
        post_entries(
            [
                EntrySpec(
                    loan=loan,
                    entry_type=JournalEntry.Type.DISBURSEMENT,
                    effective_date=lt.disbursement_date,
                    key="disbursement",
                    lines=tuple(
                        _disbursement_lines(lt, schedule.loan_amount, schedule.disbursed_amount)
                    ),
                    memo=f"Disbursed {format_money(schedule.disbursed_amount)} of "
                    f"{format_money(schedule.loan_amount)}",
                    user=actor_of(acting_user),
                )
                for loan, lt, schedule, _ in new
            ]
        )
        audit.record_many(
            [
                audit.build(
                    action="loan.boarded",
                    category=AuditCategory.MONEY,
                    obj=loan,
                    changes={"state": [None, loan.state]},
                    metadata={
                        "origination_reference": loan.origination_reference,
                        "loan_amount": str(schedule.loan_amount),
                        "disbursed_amount": str(schedule.disbursed_amount),
                        "documents": len(loan.documents),
                        "conditions": len(loan.conditions),
                        "parties": _party_metadata(t),
                    }
                    | ({"batch": True} if batch else {}),
                    actor=acting_user,
                )
                for loan, _, schedule, t in new
            ]
        )
        sync_loans(loans, user=acting_user)
        boarded = {loan.origination_reference: loan for loan in loans}
        return [existing.get(ref) or boarded[ref] for ref in refs]


def _refusal(terms: BoardingTerms, many: bool, text: str) -> str:
    """A refusal's message: `text` as a sentence, or after the reference
    when boarding several loans."""
    return f"{terms.origination_reference}: {text}" if many else text[0].upper() + text[1:]


def _new_loans(todo: list[BoardingTerms], user, *, many: bool) -> list[tuple]:
    """(unsaved Loan, engine LoanTerms, Schedule, BoardingTerms) for each of
    `todo`, checked in order; raises at the first refusal."""
    products = ServicingProduct.objects.in_bulk({t.product_id for t in todo})
    customers = set(
        Customer.objects.filter(pk__in={i for t in todo for i in t.customer_ids()}).values_list(
            "pk", flat=True
        )
    )
    new = []
    for t in todo:
        product = products.get(t.product_id)
        if product is None:
            raise NotFound(
                f"No servicing product {t.product_id}.",
                fields={"product_id": ["Unknown product."]},
            )
        check_parties(t)
        if t.customer_id not in customers:
            raise NotFound(
                f"No customer {t.customer_id}.", fields={"customer_id": ["Unknown customer."]}
            )
        if missing := [i for i in t.customer_ids() if i not in customers]:
            raise NotFound(
                _refusal(t, many, f"no customer {', '.join(map(str, missing))}."),
                fields={"parties": [f"Unknown customer {i}." for i in missing]},
            )
        lt = engine_terms(t, product)
        reuse = t.schedule is not None and t.schedule.terms == lt
        schedule = t.schedule if reuse else build_schedule(lt)
        if t.disbursed_amount is not None and t.disbursed_amount != schedule.disbursed_amount:
            raise Conflict(
                _refusal(
                    t,
                    many,
                    f"disbursed amount {t.disbursed_amount} differs from the terms' "
                    f"{schedule.disbursed_amount}.",
                ),
                code="disbursement_mismatch",
                fields={"disbursed_amount": [f"Expected {schedule.disbursed_amount}."]},
            )
        loan = Loan(
            loan_number=_pending_number(),
            origination_reference=t.origination_reference,
            customer_id=t.customer_id,
            product=product,
            currency=product.currency,
            principal=lt.principal,
            annual_rate=lt.annual_rate,
            term=lt.term,
            disbursement_date=lt.disbursement_date,
            first_payment_date=schedule.due_dates[0],
            disbursed_amount=schedule.disbursed_amount,
            terms=terms_json(lt),
            prepayment_mode=product.prepayment_mode,
            principal_balance=schedule.loan_amount,
            underwriting_notes=t.underwriting_notes,
            conditions=[dict(c) for c in t.conditions],
            documents=list(t.documents),
            boarded_by=user,
        )
        new.append((loan, lt, schedule, t))
    return new


def _core_term_differences(loan: Loan, terms: BoardingTerms) -> dict[str, list[str]]:
    """Core terms of a repeated boarding that differ from the boarded loan's."""
    pairs = {
        "customer_id": (loan.customer_id, terms.customer_id),
        "product_id": (loan.product_id, terms.product_id),
        "principal": (loan.principal, terms.principal),
        "annual_rate": (loan.annual_rate, terms.annual_rate),
        "term": (loan.term, terms.term),
        "disbursement_date": (loan.disbursement_date, terms.disbursement_date),
    }
    pairs["parties"] = (co_party_pairs(loan), [(p.customer_id, p.role) for p in terms.parties])
    return {
        name: [f"Loan {loan.loan_number} was boarded with a different value."]
        for name, (boarded, asked) in pairs.items()
        if boarded != asked
    }


def board_loan_once(*, terms: BoardingTerms, acting_user=None) -> tuple[Loan, bool]:
    """`board_loan`, saying whether this call boarded the loan: (loan, True)
    when it did, (the loan, False) when the reference was boarded before with
    the same core terms; Conflict `origination_reference_taken` when before
    with other terms. Calls for one reference serialise on an advisory lock
    (released at commit), so exactly one of concurrent first calls gets True:
    board_loan alone would return the same loan to both (its unique index
    makes the data safe, but not the caller's answer)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"servicing.board_loan:{terms.origination_reference}"],
            )
        existing = loan_by_origination_reference(terms.origination_reference)
        if existing is None:
            return board_loan(terms=terms, acting_user=acting_user), True
        differences = _core_term_differences(existing, terms)
        if differences:
            raise Conflict(
                f"Origination reference {terms.origination_reference} was already "
                f"boarded as loan {existing.loan_number} with different terms.",
                code="origination_reference_taken",
                fields=differences,
            )
        return existing, False
