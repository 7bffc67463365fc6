"""Staff pages for customers: search, create, the customer's tabs
(Overview, Contact, Consents, History), edits, and the audited tax id and
date of birth reveals. Views parse, call one service or selector, and render."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from customers import services
from customers.forms.customers import (
    AddressForm,
    ConsentForm,
    CustomerForm,
    NewCustomerForm,
    PhoneForm,
    SearchForm,
)
from customers.forms.fields import apply_domain_error
from customers.selectors.consents import consent_history, consent_statuses
from customers.selectors.customers import get_address, get_customer, get_phone, search_customers
from customers.selectors.history import customer_events
from users.access import staff_required

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"
REVEAL = "customers.reveal_tax_id"
REVEAL_DOB = "customers.reveal_date_of_birth"
PAGE_SIZE = 25


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _customer(pk: int):
    try:
        return get_customer(pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@staff_required(VIEW)
def customer_list(request):
    form = SearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    has_tax_id = {"yes": True, "no": False}.get(filters.get("tax_id") or "")
    customers = search_customers(
        filters.get("q") or "",
        kind=filters.get("kind") or "",
        has_tax_id=has_tax_id,
        order=filters.get("order") or "newest",
    )
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "customers": page.object_list,
        "query": _query_without_page(request),
        "searching": any(filters.get(k) for k in ("q", "kind", "tax_id")),
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "customers/_results.html", context)
    return render(request, "customers/list.html", context)


@staff_required(VIEW, ADD)
def customer_create(request):
    form = NewCustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(
                data=form.customer_data(),
                addresses=form.addresses(),
                phones=form.phones(),
                acting_user=request.user,
            )
        except DomainError as exc:
            apply_domain_error(form, exc, form.field_map)
        else:
            messages.success(request, f"Customer {customer.customer_number} created.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "creating": True})


@staff_required(VIEW)
def customer_detail(request, pk: int):
    customer = _customer(pk)
    context = {
        "customer": customer,
        "tab": "overview",
        "consents": consent_statuses(customer),
        "recent_events": customer_events(customer)[:5],
    }
    return render(request, "customers/detail.html", context)


@staff_required(VIEW, CHANGE)
def customer_edit(request, pk: int):
    customer = _customer(pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(
                customer=customer, changes=form.customer_data(), acting_user=request.user
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"Customer {customer.customer_number} saved.")
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request, "customers/form.html", {"form": form, "customer": customer, "creating": False}
    )


@never_cache
@require_POST
@staff_required(VIEW, REVEAL)
def reveal_tax_id(request, pk: int):
    """POST only, so a prefetch or a shared link never discloses the id.
    The service writes the sensitive_read audit event before returning it."""
    customer = _customer(pk)
    try:
        tax_id = services.reveal_tax_id(customer=customer, acting_user=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {"customer": customer, "tax_id": tax_id}
    template = (
        "customers/_tax_id_revealed.html" if _is_htmx(request) else "customers/tax_id_revealed.html"
    )
    return render(request, template, context)


@never_cache
@require_POST
@staff_required(VIEW, REVEAL_DOB)
def reveal_date_of_birth(request, pk: int):
    """POST only, like the tax id reveal; the service audits before it decrypts."""
    customer = _customer(pk)
    try:
        birth = services.reveal_date_of_birth(customer=customer, acting_user=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = {"customer": customer, "date_of_birth": birth}
    template = (
        "customers/_date_of_birth_revealed.html"
        if _is_htmx(request)
        else "customers/date_of_birth_revealed.html"
    )
    return render(request, template, context)


@staff_required(VIEW)
def customer_contact(request, pk: int):
    customer = _customer(pk)
    return render(request, "customers/contact.html", {"customer": customer, "tab": "contact"})


def _consents_page(request, customer, form, status=200):
    context = {
        "customer": customer,
        "tab": "consents",
        "statuses": consent_statuses(customer),
        "history": consent_history(customer),
        "form": form,
    }
    return render(request, "customers/consents.html", context, status=status)


@staff_required(VIEW)
def customer_consents(request, pk: int):
    return _consents_page(request, _customer(pk), ConsentForm())


@require_POST
@staff_required(VIEW, CHANGE)
def consent_record(request, pk: int):
    customer = _customer(pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            consent = services.record_consent(
                customer=customer, data=form.data_for_service(), acting_user=request.user
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            verb = "granted" if consent.granted else "withdrawn"
            what = f"{consent.get_purpose_display()} by {consent.get_channel_display()}"
            messages.success(request, f"Recorded: {what} {verb}.")
            return redirect("customers:consents", pk=customer.pk)
    return _consents_page(request, customer, form)


@staff_required(VIEW)
def customer_history(request, pk: int):
    customer = _customer(pk)
    page = Paginator(customer_events(customer), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/history.html",
        {
            "customer": customer,
            "tab": "history",
            "page": page,
            "events": page.object_list,
            "query": "",
        },
    )


# --- addresses and phones ---------------------------------------------------------


def _child_form_page(request, customer, form, *, title, action_label):
    return render(
        request,
        "customers/child_form.html",
        {
            "customer": customer,
            "form": form,
            "title": title,
            "action_label": action_label,
            "tab": "contact",
        },
    )


@dataclass(frozen=True)
class _Child:
    """How the contact tab edits one kind of child row (address or phone)."""

    noun: str
    form: type
    get: Callable
    add: Callable
    update: Callable
    remove: Callable


_CHILDREN = {
    "address": _Child(
        "address",
        AddressForm,
        get_address,
        lambda customer, data, user: services.add_address(
            customer=customer, data=data, acting_user=user
        ),
        lambda row, data, user: services.update_address(
            address=row, changes=data, acting_user=user
        ),
        lambda row, user: services.remove_address(address=row, acting_user=user),
    ),
    "phone": _Child(
        "phone",
        PhoneForm,
        get_phone,
        lambda customer, data, user: services.add_phone(
            customer=customer, data=data, acting_user=user
        ),
        lambda row, data, user: services.update_phone(phone=row, changes=data, acting_user=user),
        lambda row, user: services.remove_phone(phone=row, acting_user=user),
    ),
}


def _child_row(child: _Child, customer, row_pk: int):
    try:
        return child.get(customer, row_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@staff_required(VIEW, CHANGE)
def child_edit(request, pk: int, kind: str, row_pk: int | None = None):
    """Add (no row_pk) or edit one address or phone of a customer."""
    child = _CHILDREN[kind]
    customer = _customer(pk)
    row = _child_row(child, customer, row_pk) if row_pk is not None else None
    form = child.form(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        try:
            if row is None:
                child.add(customer, form.data_for_service(), request.user)
            else:
                child.update(row, form.data_for_service(), request.user)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, f"{child.noun.capitalize()} {'added' if row is None else 'saved'}."
            )
            return redirect("customers:contact", pk=customer.pk)
    verb = "Add" if row is None else "Edit"
    return _child_form_page(
        request,
        customer,
        form,
        title=f"{verb} {child.noun}",
        action_label=f"{'Add' if row is None else 'Save'} {child.noun}",
    )


@require_POST
@staff_required(VIEW, CHANGE)
def child_remove(request, pk: int, kind: str, row_pk: int):
    child = _CHILDREN[kind]
    customer = _customer(pk)
    child.remove(_child_row(child, customer, row_pk), request.user)
    messages.success(request, f"{child.noun.capitalize()} removed.")
    return redirect("customers:contact", pk=customer.pk)
