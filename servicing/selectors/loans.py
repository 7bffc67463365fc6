"""Loan reads: staff search (the staff pages' and the API's filter), one
loan, the portal's access functions and a loan's parties. Nothing here
writes. A loan's schedule, transactions, ledger and service requests are
read in the sibling modules (schedules, transactions, ledger, requests).
"""

import re

import django_filters
from django.db.models import Q, QuerySet

from core.exceptions import NotFound
from core.selectors.audit import object_history
from servicing.models import BORROWER_ROLES, Loan, LoanParty, LoanState

_LOAN_NUMBER_RE = re.compile(r"^l-?0*(\d{1,12})$", re.IGNORECASE)
_CUSTOMER_NUMBER_RE = re.compile(r"^c-?0*(\d{1,12})$", re.IGNORECASE)


# --- search and access -------------------------------------------------------------


def _loan_queryset() -> QuerySet[Loan]:
    return Loan.objects.select_related("customer", "product")


def search_loans(
    query: str = "",
    *,
    state: str = "",
    dpd_min: int | None = None,
    dpd_max: int | None = None,
    customer_id: int | None = None,
) -> QuerySet[Loan]:
    """Staff loan search, newest first. `query` is read as:

    - a loan number ("L-0000042", "l42"): that loan;
    - a customer number ("C-000007", "c7"): the loans that customer is a
      party to (borrower, co-borrower or guarantor);
    - otherwise: the exact origination reference, or a loan number
      containing it, or every word in a party's legal or d/b/a name.

    `state` narrows to one LoanState; `dpd_min` / `dpd_max` bound days past
    due (inclusive); `customer_id` narrows to the loans of one party."""
    loans = _loan_queryset()
    if state in LoanState.values:
        loans = loans.filter(state=state)
    if dpd_min is not None:
        loans = loans.filter(days_past_due__gte=dpd_min)
    if dpd_max is not None:
        loans = loans.filter(days_past_due__lte=dpd_max)
    if customer_id is not None:
        loans = loans.filter(
            pk__in=LoanParty.objects.filter(customer_id=customer_id).values("loan")
        )
    query = " ".join((query or "").split())
    if query:
        loan_number = _LOAN_NUMBER_RE.match(query)
        customer_number = _CUSTOMER_NUMBER_RE.match(query)
        if loan_number:
            loans = loans.filter(loan_number=f"L-{int(loan_number.group(1)):07d}")
        elif customer_number:
            number = f"C-{int(customer_number.group(1)):06d}"
            parties = LoanParty.objects.filter(customer__customer_number=number)
            loans = loans.filter(pk__in=parties.values("loan"))
        else:
            names = Q()
            for word in query.split():
                names &= Q(customer__legal_name__icontains=word) | Q(
                    customer__dba_name__icontains=word
                )
            # Any party's name, as a subquery: a loan with two matching
            # parties is listed once.
            named = LoanParty.objects.filter(names).values("loan")
            loans = loans.filter(
                Q(origination_reference__iexact=query)
                | Q(loan_number__icontains=query)
                | Q(pk__in=named)
            )
    return loans.order_by("-id")


def get_loan(pk: int) -> Loan:
    """One loan with its customer, product and boarding user; NotFound if none."""
    loan = _loan_queryset().select_related("boarded_by").filter(pk=pk).first()
    if loan is None:
        raise NotFound(f"No loan {pk}.")
    return loan


def loan_by_origination_reference(reference: str) -> Loan | None:
    """The loan boarded from this origination reference, or None."""
    return Loan.objects.filter(origination_reference=reference).first()


def loan_history_rows(loan: Loan) -> QuerySet:
    """Every audit event about the loan, newest first, as plain rows."""
    return (
        object_history(Loan._meta.label_lower, loan.pk)
        .reverse()
        .values("id", "occurred_at", "actor_label", "action", "category", "changes", "metadata")
    )


def get_loan_by_number(loan_number: str) -> Loan:
    loan = _loan_queryset().filter(loan_number=loan_number).first()
    if loan is None:
        raise NotFound(f"No loan {loan_number}.")
    return loan


def party_loan_ids(customer) -> QuerySet:
    """Ids of the loans `customer` is a party to (any role)."""
    return LoanParty.objects.filter(customer=customer).values("loan_id")


def get_loans_for_customer(customer) -> QuerySet[Loan]:
    """The portal's access function: the loans this customer is a party to
    (primary borrower, co-borrower or guarantor), newest first. A borrower
    reaches a loan only through this queryset, so a loan they are no party
    to is simply not found (404)."""
    return _loan_queryset().filter(pk__in=party_loan_ids(customer)).order_by("-id")


def loan_parties(loan: Loan) -> list[LoanParty]:
    """The loan's parties with their customers, the primary borrower first."""
    return list(LoanParty.objects.filter(loan=loan).select_related("customer").order_by("ordering"))


def co_party_pairs(loan: Loan) -> list[tuple[int, str]]:
    """(customer id, role) of every party but the primary borrower, in order."""
    return list(
        loan.parties.exclude(ordering=0).order_by("ordering").values_list("customer_id", "role")
    )


def loan_borrowers(loan: Loan) -> list:
    """The customers who owe the loan (borrower, then co-borrowers in order):
    whom statements, payoff letters and notices address."""
    return [p.customer for p in loan_parties(loan) if p.role in BORROWER_ROLES]


def get_loan_for_customer(customer, pk: int) -> Loan:
    """Loan `pk` through the portal's access function: NotFound for a loan
    this customer is no party to."""
    loan = get_loans_for_customer(customer).filter(pk=pk).first()
    if loan is None:
        raise NotFound("No such loan.")
    return loan


def loan_rows(fields) -> QuerySet:
    """Every funded loan newest first, as plain rows of `fields` (for list
    endpoints: filter with `LoanFilter`, then paginate)."""
    return Loan.objects.order_by("-id").values(*fields)


def customer_loan_rows(customer, fields) -> QuerySet:
    """The portal access function's loans as plain rows of `fields`."""
    return get_loans_for_customer(customer).values(*fields)


class LoanFilter(django_filters.FilterSet):
    """The loan list endpoint's filters (?state=, ?customer=, ?dpd_min=,
    ?dpd_max=, ?search=) over a queryset of loans or loan rows."""

    state = django_filters.ChoiceFilter(choices=LoanState.choices, label="Loan state.")
    customer = django_filters.NumberFilter(
        method="filter_customer", label="Customer id: the loans that customer is a party to."
    )
    dpd_min = django_filters.NumberFilter(
        field_name="days_past_due", lookup_expr="gte", label="At least this many days past due."
    )
    dpd_max = django_filters.NumberFilter(
        field_name="days_past_due", lookup_expr="lte", label="At most this many days past due."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        label="Loan number, origination reference or a party's customer number (exact, "
        "any case), or part of a party's name.",
    )

    class Meta:
        model = Loan
        fields = ["state", "customer", "dpd_min", "dpd_max", "search"]

    def filter_customer(self, queryset, name, value):
        return queryset.filter(pk__in=LoanParty.objects.filter(customer_id=value).values("loan"))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        parties = LoanParty.objects.filter(
            Q(customer__customer_number__iexact=value) | Q(customer__legal_name__icontains=value)
        )
        return queryset.filter(
            Q(loan_number__iexact=value)
            | Q(origination_reference__iexact=value)
            | Q(pk__in=parties.values("loan"))
        )
