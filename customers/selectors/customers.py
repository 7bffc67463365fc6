"""Reads of customers, their addresses and phones. The portal reaches a
borrower's data only through `get_customer_for_user`; staff search goes
through `search_customers`. Consents are read in customers.selectors.consents,
a customer's audit history in customers.selectors.history."""

import re

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from core.exceptions import NotFound
from customers.models import Address, Customer, Phone
from customers.tax_ids import tax_id_hashes
from customers.validators import tax_id_digits

_CUSTOMER_NUMBER_RE = re.compile(r"^c-?0*(\d{1,9})$", re.IGNORECASE)
_DIGITS_ONLY_RE = re.compile(r"^[\d\s().+-]+$")


def customers_with_contact() -> QuerySet[Customer]:
    """Customers annotated with their primary phone (E.164) and primary
    address's city/state: enough for a list row without N+1 queries. Newest
    first."""
    phones = Phone.objects.filter(customer=OuterRef("pk"), is_primary=True)
    addresses = Address.objects.filter(customer=OuterRef("pk"), is_primary=True)
    return Customer.objects.annotate(
        primary_phone=Subquery(phones.values("number")[:1]),
        primary_city=Subquery(addresses.values("city")[:1]),
        primary_state=Subquery(addresses.values("state")[:1]),
    ).order_by("-created_at", "-id")


def filter_customers(queryset: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    """Narrow `queryset` by a free-text query, read as:

    - a customer number ("C-000123", "c123"): that customer;
    - nine digits (separators allowed): the exact tax id, through the blind
      index, or a phone number containing them;
    - four digits: the tax id's last four, a phone or customer number ending
      in them;
    - other digit strings (3+): phone numbers containing them;
    - text: every word must appear in the legal name, d/b/a name or e-mail.
    """
    query = " ".join((query or "").split())
    if not query:
        return queryset
    number = _CUSTOMER_NUMBER_RE.match(query)
    if number:
        return queryset.filter(customer_number=f"C-{int(number.group(1)):06d}")
    if _DIGITS_ONLY_RE.match(query):
        digits = tax_id_digits(query)
        phones = Phone.objects.filter(customer=OuterRef("pk"))
        if len(digits) == 9:
            condition = Q(tax_id_hash__in=tax_id_hashes(digits)) | Exists(
                phones.filter(number__contains=digits)
            )
        elif len(digits) == 4:
            condition = (
                Q(tax_id_last4=digits)
                | Q(customer_number__endswith=digits)
                | Exists(phones.filter(number__endswith=digits))
            )
        elif len(digits) >= 3:
            condition = Exists(phones.filter(number__contains=digits))
        else:
            return queryset.none()
        return queryset.filter(condition)
    for word in query.split():
        queryset = queryset.filter(
            Q(legal_name__icontains=word) | Q(dba_name__icontains=word) | Q(email__icontains=word)
        )
    return queryset


ORDERINGS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "name": ("legal_name", "id"),
    "number": ("customer_number",),
}


def search_customers(
    query: str = "",
    *,
    kind: str = "",
    has_tax_id: bool | None = None,
    portal: bool | None = None,
    order: str = "newest",
) -> QuerySet[Customer]:
    """Staff search (see filter_customers for how `query` is read), narrowed
    by kind ("person"/"business"), whether a tax id is on file, and whether
    the customer has a portal account; annotated as customers_with_contact."""
    customers = customers_with_contact()
    if kind in Customer.Kind.values:
        customers = customers.filter(kind=kind)
    if has_tax_id is not None:
        customers = (
            customers.exclude(tax_id_hash="") if has_tax_id else customers.filter(tax_id_hash="")
        )
    if portal is not None:
        customers = customers.filter(user__isnull=not portal)
    customers = filter_customers(customers, query)
    return customers.order_by(*ORDERINGS.get(order, ORDERINGS["newest"]))


def customer_detail_queryset() -> QuerySet[Customer]:
    return Customer.objects.select_related("user", "created_by").prefetch_related(
        Prefetch("addresses", queryset=Address.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=Phone.objects.order_by("-is_primary", "id")),
    )


def get_customer(pk: int) -> Customer:
    """A customer with addresses and phones prefetched, or NotFound."""
    customer = customer_detail_queryset().filter(pk=pk).first()
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def get_customer_for_user(user) -> Customer:
    """The customer linked to a signed-in borrower: the only way portal
    pages reach customer data. NotFound for anyone else."""
    if not (user and user.is_authenticated and getattr(user, "is_borrower", False)):
        raise NotFound("No customer profile for this account.")
    customer = customer_detail_queryset().filter(user=user).first()
    if customer is None:
        raise NotFound("No customer profile for this account.")
    return customer


def get_address(customer: Customer, address_pk: int) -> Address:
    address = Address.objects.filter(customer=customer, pk=address_pk).first()
    if address is None:
        raise NotFound("No such address for this customer.")
    return address


def get_phone(customer: Customer, phone_pk: int) -> Phone:
    phone = Phone.objects.filter(customer=customer, pk=phone_pk).first()
    if phone is None:
        raise NotFound("No such phone for this customer.")
    return phone


def primary_phone(customer: Customer) -> Phone | None:
    """The customer's primary phone, or None (from the prefetched phones when
    the customer came from `get_customer` or `get_customer_for_user`)."""
    return next((p for p in customer.phones.all() if p.is_primary), None)


def primary_address(customer: Customer) -> Address | None:
    """The customer's primary address, or None (prefetched as `primary_phone`)."""
    return next((a for a in customer.addresses.all() if a.is_primary), None)
