"""Reads of customers. The portal reaches a borrower's data only through
`get_customer_for_user`; staff search goes through `search_customers`."""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from core.exceptions import NotFound
from core.models import AuditEvent
from customers.consent_wording import CONSENT_TOPICS, ConsentTopic
from customers.models import Address, Consent, Customer, Phone
from customers.services import tax_id_hashes
from customers.validators import tax_id_digits

CUSTOMER_OBJECT_TYPE = Customer._meta.label_lower  # "customers.customer"

_CUSTOMER_NUMBER_RE = re.compile(r"^c-?0*(\d{1,9})$", re.IGNORECASE)
_DIGITS_ONLY_RE = re.compile(r"^[\d\s().+-]+$")


def customers_with_contact() -> QuerySet[Customer]:
    """Customers annotated with their primary phone (E.164) and primary
    address's city/state: enough for a list row without N+1 queries."""
    primary_phone = Phone.objects.filter(customer=OuterRef("pk"), is_primary=True)
    primary_address = Address.objects.filter(customer=OuterRef("pk"), is_primary=True)
    return Customer.objects.annotate(
        primary_phone=Subquery(primary_phone.values("number")[:1]),
        primary_city=Subquery(primary_address.values("city")[:1]),
        primary_state=Subquery(primary_address.values("state")[:1]),
    )


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


def customer_history(customer: Customer) -> QuerySet[AuditEvent]:
    """Every audit event about the customer (its addresses, phones and
    consents are recorded against it), newest first."""
    return AuditEvent.objects.filter(
        object_type=CUSTOMER_OBJECT_TYPE, object_id=str(customer.pk)
    ).order_by("-occurred_at", "-id")


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
