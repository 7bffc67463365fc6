"""Servicing REST API, reads: /api/v1/loans/ and a loan's detail, schedule,
transactions and ledger.

Everything here reads, through servicing.selectors (loans, schedules,
transactions, ledger: the reads the staff pages and the borrower API use);
nothing writes. Lists are built from plain rows and plain serializers (a
ModelSerializer costs ~1 ms per object) and each list runs a fixed number of
queries whatever the page size (pinned in tests/servicing/test_api_loans.py).
API keys need `loans:read`; staff sessions need servicing.view_loan.

Money is a decimal string with two places; rates are in percent (the engine
terms under `terms` keep the engine's fractions).
"""

from decimal import Decimal

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from customers.api.customers import ErrorSerializer
from servicing.api.base import READ_ERRORS, VIEW, money_field
from servicing.models import Loan
from servicing.selectors.ledger import entry_posting_rows, loan_entry_rows
from servicing.selectors.loans import LoanFilter, get_loan, loan_parties, loan_rows
from servicing.selectors.schedules import schedule_rows
from servicing.selectors.transactions import allocations_by_event, loan_event_rows, payment_row

PERCENT = Decimal("0.0001")


def rate_percent(fraction: Decimal) -> Decimal:
    """An annual rate stored as a fraction (0.0725) as percent with 4 places (7.2500)."""
    return (fraction * 100).quantize(PERCENT)


def payment_body(payment_id: int) -> dict:
    """A payment with its current allocation, as the payment endpoints return it."""
    return PaymentSerializer(payment_row(payment_id)).data


# --- output serializers -------------------------------------------------------------------


class AllocationRowSerializer(serializers.Serializer):
    component = serializers.CharField(
        help_text="principal, interest, fees, penalties, unapplied or overpayment."
    )
    installment_number = serializers.IntegerField(
        allow_null=True,
        help_text="The instalment the money went to; null for prepaid principal and credit.",
    )
    amount = money_field(
        help_text="Credit minus debit on the component: positive is paid to (or held as) "
        "the component, negative is charged to it or taken back by a re-application."
    )


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    event_id = serializers.IntegerField(help_text="The payment's loan event.")
    amount = money_field()
    received_on = serializers.DateField(help_text="Effective date.")
    method = serializers.CharField(help_text="cash, check, ach or card.")
    channel = serializers.CharField(help_text="staff, portal, api, batch or autopay.")
    reference = serializers.CharField()
    excess = serializers.CharField(
        help_text="What happens to money beyond what is due: prepayment or unapplied."
    )
    status = serializers.CharField(help_text="posted or reversed.")
    reversal_reason = serializers.CharField(
        help_text="nsf, chargeback, posting_error or ach_return; empty unless reversed."
    )
    reversal_event_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    allocation = AllocationRowSerializer(
        many=True,
        help_text="Where the money went now (after any re-application); empty once reversed.",
    )


class LoanEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    effective_date = serializers.DateField()
    amount = money_field()
    details = serializers.DictField(help_text="The event's details (fee kind, note, reason).")


def event_body(event) -> dict:
    return {
        "id": event.pk,
        "kind": event.kind,
        "effective_date": event.effective_date.isoformat(),
        "amount": str(event.amount),
        "details": event.details,
    }


class LoanListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_number = serializers.CharField()
    origination_reference = serializers.CharField()
    customer_id = serializers.IntegerField()
    state = serializers.CharField(help_text="active, overpaid, paid_off, charged_off or closed.")
    principal_balance = money_field()
    interest_balance = money_field(help_text="Interest due and unpaid.")
    fees_balance = money_field()
    penalties_balance = money_field()
    unapplied_balance = money_field(help_text="Credit held, not yet applied.")
    overpayment_balance = money_field(help_text="Credit owed back to the borrower.")
    days_past_due = serializers.IntegerField()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = money_field()


LIST_FIELDS = tuple(LoanListItemSerializer().fields)


class BalancesSerializer(serializers.Serializer):
    principal = money_field()
    interest = money_field()
    fees = money_field()
    penalties = money_field()
    unapplied = money_field()
    overpayment = money_field()
    total_outstanding = money_field(
        help_text="Principal + interest + fees + penalties - unapplied credit."
    )


class LoanPartySerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer_number = serializers.CharField(allow_null=True)
    name = serializers.CharField(help_text="The customer's legal name.")
    role = serializers.CharField(help_text="borrower (the primary), co_borrower or guarantor.")
    ordering = serializers.IntegerField(help_text="0 for the primary borrower, then 1, 2, ...")


class LoanConditionSerializer(serializers.Serializer):
    text = serializers.CharField()
    status = serializers.CharField(
        allow_blank=True, help_text="open, satisfied or waived at boarding."
    )
    note = serializers.CharField(allow_blank=True)
    reference = serializers.CharField(allow_blank=True)


def party_rows(loan: Loan) -> list[dict]:
    """The loan's parties as LoanPartySerializer reads them (one query)."""
    return [
        {
            "customer_id": p.customer_id,
            "customer_number": p.customer.customer_number,
            "name": str(p.customer.legal_name),
            "role": p.role,
            "ordering": p.ordering,
        }
        for p in loan_parties(loan)
    ]


class LoanDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_number = serializers.CharField()
    origination_reference = serializers.CharField()
    customer_id = serializers.IntegerField(help_text="The primary borrower.")
    customer_number = serializers.CharField(allow_null=True)
    customer_name = serializers.CharField()
    parties = LoanPartySerializer(
        many=True, help_text="Every party with its role, the primary borrower first."
    )
    product_id = serializers.IntegerField()
    product_code = serializers.CharField()
    product_version = serializers.IntegerField()
    state = serializers.CharField(help_text="active, overpaid, paid_off, charged_off or closed.")
    currency = serializers.CharField()
    principal = money_field(help_text="The approved principal as boarded.")
    annual_rate = serializers.DecimalField(
        max_digits=10, decimal_places=4, help_text="Nominal annual rate in percent."
    )
    term = serializers.IntegerField(help_text="Number of instalments as boarded.")
    disbursement_date = serializers.DateField()
    first_payment_date = serializers.DateField()
    disbursed_amount = money_field()
    prepayment_mode = serializers.CharField()
    terms = serializers.DictField(
        help_text="The engine terms as boarded (core.finance.LoanTerms); rates there "
        "are fractions (0.12), amounts decimal strings."
    )
    balances = BalancesSerializer()
    days_past_due = serializers.IntegerField()
    next_due_date = serializers.DateField(allow_null=True)
    next_due_amount = money_field()
    closed_on = serializers.DateField(allow_null=True)
    underwriting_notes = serializers.CharField()
    conditions = LoanConditionSerializer(many=True, help_text="Origination's conditions.")
    documents = serializers.ListField(
        child=serializers.DictField(),
        help_text="References to origination's documents: name, kind, sha256, reference "
        "(uploads also their review status).",
    )
    boarded_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def loan_detail_body(loan: Loan) -> dict:
    """A loan as the detail and boarding endpoints return it."""
    return LoanDetailSerializer(
        {
            "id": loan.pk,
            "loan_number": loan.loan_number,
            "origination_reference": loan.origination_reference,
            "customer_id": loan.customer_id,
            "customer_number": loan.customer.customer_number,
            "customer_name": str(loan.customer.legal_name),
            "parties": party_rows(loan),
            "product_id": loan.product_id,
            "product_code": loan.product.code,
            "product_version": loan.product.version,
            "state": loan.state,
            "currency": loan.currency,
            "principal": loan.principal,
            "annual_rate": rate_percent(loan.annual_rate),
            "term": loan.term,
            "disbursement_date": loan.disbursement_date,
            "first_payment_date": loan.first_payment_date,
            "disbursed_amount": loan.disbursed_amount,
            "prepayment_mode": loan.prepayment_mode,
            "terms": loan.terms,
            "balances": {
                "principal": loan.principal_balance,
                "interest": loan.interest_balance,
                "fees": loan.fees_balance,
                "penalties": loan.penalties_balance,
                "unapplied": loan.unapplied_balance,
                "overpayment": loan.overpayment_balance,
                "total_outstanding": loan.total_outstanding,
            },
            "days_past_due": loan.days_past_due,
            "next_due_date": loan.next_due_date,
            "next_due_amount": loan.next_due_amount,
            "closed_on": loan.closed_on,
            "underwriting_notes": loan.underwriting_notes,
            "conditions": [
                {
                    "text": c.get("text", ""),
                    "status": c.get("status", ""),
                    "note": c.get("note", ""),
                    "reference": c.get("reference", ""),
                }
                for c in loan.conditions
            ],
            "documents": loan.documents,
            "boarded_at": loan.created_at,
            "updated_at": loan.updated_at,
        }
    ).data


class ScheduleInstallmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    status = serializers.CharField(
        help_text="not_due, due, partially_paid, past_due or paid (as of the business date)."
    )
    principal_due = money_field()
    interest_due = money_field()
    fees_due = money_field()
    penalties_due = money_field()
    total_due = money_field()
    principal_paid = money_field()
    interest_paid = money_field()
    fees_paid = money_field()
    penalties_paid = money_field()
    total_paid = money_field()
    outstanding = money_field(help_text="total_due - total_paid.")


class LoanScheduleSerializer(serializers.Serializer):
    loan_id = serializers.IntegerField()
    loan_number = serializers.CharField()
    installments = ScheduleInstallmentSerializer(many=True)


class TransactionPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    channel = serializers.CharField()
    reference = serializers.CharField()
    status = serializers.CharField(help_text="posted or reversed.")
    reversal_reason = serializers.CharField()


class TransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The loan event's id.")
    kind = serializers.CharField(
        help_text="payment, fee, waiver, refund, modification, reversal, charge_off or recovery."
    )
    effective_date = serializers.DateField()
    amount = money_field()
    details = serializers.DictField(help_text="The event's parameters (kind-specific).")
    reverses_id = serializers.IntegerField(
        allow_null=True, help_text="For a reversal: the event it cancels."
    )
    reversed_by_id = serializers.IntegerField(
        allow_null=True, help_text="The reversal that cancelled this event, if any."
    )
    created_at = serializers.DateTimeField()
    payment = TransactionPaymentSerializer(allow_null=True, help_text="For payments only.")
    allocation = AllocationRowSerializer(many=True)


class LedgerPostingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_code = serializers.CharField()
    account_name = serializers.CharField()
    role = serializers.CharField(help_text="The account's role in the product's chart.")
    component = serializers.CharField()
    installment_number = serializers.IntegerField(allow_null=True)
    debit = money_field()
    credit = money_field()


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entry_type = serializers.CharField()
    effective_date = serializers.DateField()
    booked_at = serializers.DateTimeField()
    source = serializers.CharField(
        help_text="What the entry realises: event:<id>, accrual:<n>, credit:<date>, "
        "disbursement, charge_off."
    )
    key = serializers.CharField()
    memo = serializers.CharField()
    event_id = serializers.IntegerField(allow_null=True)
    postings = LedgerPostingSerializer(many=True)


# --- views -------------------------------------------------------------------------------


class LoanReadView(GenericAPIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,), "*": (VIEW,)}
    filter_backends: list = []


class LoanListView(LoanReadView):
    serializer_class = LoanListItemSerializer
    # ?search= is LoanFilter's; DRF's SearchFilter from the defaults would shadow it.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = LoanFilter
    ordering_fields = ("loan_number", "days_past_due", "principal_balance", "next_due_date")
    ordering = ("-id",)

    def get_queryset(self):
        return loan_rows(LIST_FIELDS)

    @extend_schema(
        operation_id="loans_list",
        summary="Search loans",
        description="Funded loans with their cached balances (re-derivable from the ledger).",
        tags=["loans"],
        responses={200: LoanListItemSerializer(many=True), 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request):
        loans = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(loans)
        return self.get_paginated_response(LoanListItemSerializer(page, many=True).data)


class LoanDetailView(LoanReadView):
    serializer_class = LoanDetailSerializer

    @extend_schema(
        operation_id="loans_retrieve",
        summary="Get a loan: terms and balances",
        tags=["loans"],
        responses={200: LoanDetailSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(loan_detail_body(get_loan(pk)))


class LoanScheduleView(LoanReadView):
    serializer_class = LoanScheduleSerializer

    @extend_schema(
        operation_id="loans_schedule",
        summary="A loan's schedule with what has been paid",
        description=(
            "Every instalment of the current schedule (after any modification), with "
            "what is due and paid per component as of the business date. Not paginated: "
            "a schedule is bounded by the loan's term."
        ),
        tags=["loans"],
        responses={200: LoanScheduleSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        rows = schedule_rows(loan)
        body = {"loan_id": loan.pk, "loan_number": loan.loan_number, "installments": rows}
        return Response(LoanScheduleSerializer(body).data)


class LoanTransactionsView(LoanReadView):
    serializer_class = TransactionSerializer

    @extend_schema(
        operation_id="loans_transactions",
        summary="A loan's transactions: events with their allocation",
        description=(
            "The loan's event history (payments, fees, waivers, refunds, modifications, "
            "reversals, ...), newest first, each with where its money went now, netted over "
            "the entries that realise it (a backdated payment or a reversal re-applies later "
            "events; their allocation here is the current one)."
        ),
        tags=["loans"],
        responses={200: TransactionSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        events = loan_event_rows(loan)
        page = self.paginate_queryset(events)
        allocations = allocations_by_event(loan.pk, [row["id"] for row in page])
        results = [
            {
                "id": row["id"],
                "kind": row["kind"],
                "effective_date": row["effective_date"],
                "amount": row["amount"],
                "details": row["details"],
                "reverses_id": row["reverses_id"],
                "reversed_by_id": row["reversed_by_event_id"],
                "created_at": row["created_at"],
                "payment": None
                if row["payment_id"] is None
                else {
                    "id": row["payment_id"],
                    "method": row["payment_method"],
                    "channel": row["payment_channel"],
                    "reference": row["payment_reference"],
                    "status": row["payment_status"],
                    "reversal_reason": row["payment_reversal_reason"],
                },
                "allocation": allocations.get(row["id"], []),
            }
            for row in page
        ]
        return self.get_paginated_response(TransactionSerializer(results, many=True).data)


class LoanLedgerView(LoanReadView):
    serializer_class = LedgerEntrySerializer

    @extend_schema(
        operation_id="loans_ledger",
        summary="A loan's journal entries with their postings",
        description=(
            "The loan's double-entry ledger in booking order (oldest first). Entries are "
            "never changed: a correction is a further entry. Each entry's debits equal its "
            "credits."
        ),
        tags=["loans"],
        responses={200: LedgerEntrySerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        page = self.paginate_queryset(loan_entry_rows(loan))
        postings = entry_posting_rows(loan, [entry["id"] for entry in page])
        results = [{**entry, "postings": postings[entry["id"]]} for entry in page]
        return self.get_paginated_response(LedgerEntrySerializer(results, many=True).data)


api_patterns = [
    path("loans/", LoanListView.as_view(), name="loans-api-list"),
    path("loans/<int:pk>/", LoanDetailView.as_view(), name="loans-api-detail"),
    path("loans/<int:pk>/schedule/", LoanScheduleView.as_view(), name="loans-api-schedule"),
    path(
        "loans/<int:pk>/transactions/",
        LoanTransactionsView.as_view(),
        name="loans-api-transactions",
    ),
    path("loans/<int:pk>/ledger/", LoanLedgerView.as_view(), name="loans-api-ledger"),
]
