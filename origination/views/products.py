"""Loan products admin (staff, origination.manage_products): the products
with their version history, one version's settings, create, and the edit
forms. Saving an edit calls services.products.revise_product, which writes
a new version; the old one stays, and applications priced on it keep it.
Refused input re-renders the form with every error and writes nothing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from core.exceptions import Conflict, DomainError, PermissionDenied
from origination.forms.products import (
    LIMIT_FIELDS,
    CreateProductForm,
    DocumentFormSet,
    FeesForm,
    GridFormSet,
    LimitsForm,
    RuleSetForm,
    ScorecardForm,
    formset_rows,
    grid_rows,
)
from origination.models import LoanProduct
from origination.selectors import products as selectors_products
from origination.services import products as product_services
from users.access import staff_required

MANAGE = product_services.MANAGE_PERMISSION

# section -> (title, product field(s) it edits)
SECTIONS = {
    "limits": ("Limits, terms and settings", LIMIT_FIELDS),
    "fees": ("Fees", ("fees",)),
    "pricing": ("Pricing grid", ("pricing_grid",)),
    "documents": ("Required documents", ("required_documents",)),
    "rules": ("Policy rule set", ("rule_set",)),
    "scorecard": ("Scorecard", ("scorecard",)),
}
JSON_FORMS = {"fees": FeesForm, "rules": RuleSetForm, "scorecard": ScorecardForm}
JSON_FIELD = {"fees": "fees", "rules": "rule_set", "scorecard": "scorecard"}


def _version(product_id: int):
    try:
        return selectors_products.product_with_versions(product_id)
    except LoanProduct.DoesNotExist:
        raise Http404("No such loan product.") from None


@staff_required(MANAGE)
def product_list(request):
    return render(
        request,
        "origination/products/list.html",
        {"families": selectors_products.product_families()},
    )


@staff_required(MANAGE)
def product_detail(request, product_id: int):
    product, versions = _version(product_id)
    rules = product.rule_set.get("rules", []) if isinstance(product.rule_set, dict) else []
    scorecard = product.scorecard if isinstance(product.scorecard, dict) else {}
    return render(
        request,
        "origination/products/detail.html",
        {
            "product": product,
            "versions": versions,
            "latest": versions[0],
            "is_latest": versions[0].pk == product.pk,
            "application_count": next(
                (v.application_count for v in versions if v.pk == product.pk), 0
            ),
            "rules": rules,
            "scorecard": scorecard,
            "characteristics": scorecard.get("characteristics", []),
            "servicing_product": selectors_products.servicing_product(product),
            "sections": SECTIONS,
        },
    )


def _apply_errors(exc: DomainError, form, field_map: dict[str, str] | None = None) -> None:
    """Put a service refusal's field errors on `form` (unknown fields: non-field)."""
    field_map = field_map or {}
    placed = False
    for name, errors in (exc.fields or {}).items():
        target = field_map.get(name, name)
        for message in errors if isinstance(errors, list | tuple) else [errors]:
            form.add_error(target if target in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _section_forms(section: str, product, data=None):
    """The bound (POST) or initial form(s) of a section."""
    if section == "limits":
        return LimitsForm(
            data,
            initial=LimitsForm.initial_for(product),
            servicing_products=selectors_products.servicing_products(),
        )
    if section in JSON_FORMS:
        form_class = JSON_FORMS[section]
        return form_class(
            data, initial=form_class.initial_for(getattr(product, JSON_FIELD[section]))
        )
    if section == "pricing":
        return GridFormSet(data, initial=product.pricing_grid, prefix="grid")
    return DocumentFormSet(data, initial=product.required_documents, prefix="doc")


def _changes(section: str, form) -> dict:
    if section == "limits":
        return dict(form.cleaned_data)
    if section in JSON_FORMS:
        return {JSON_FIELD[section]: form.cleaned_data["value"]}
    if section == "pricing":
        return {"pricing_grid": grid_rows(form)}
    return {
        "required_documents": [
            {"kind": row["kind"], "label": row["label"]} for row in formset_rows(form)
        ]
    }


def _formset_error(formset, exc: DomainError) -> None:
    messages_ = []
    for errors in (exc.fields or {}).values():
        messages_.extend(errors if isinstance(errors, list | tuple) else [errors])
    formset._non_form_errors = formset.error_class(messages_ or [exc.message])


@staff_required(MANAGE)
def product_edit(request, product_id: int, section: str):
    if section not in SECTIONS:
        raise Http404("No such section.")
    product, versions = _version(product_id)
    latest = versions[0]
    status, error = 200, ""
    if request.method == "POST":
        form = _section_forms(section, product, request.POST)
        if form.is_valid():
            changes = _changes(section, form)
            unchanged = all(getattr(product, k) == v for k, v in changes.items())
            if unchanged:
                messages.info(request, "Nothing changed; no new version was made.")
                return redirect("origination:product-detail", product_id=product.pk)
            try:
                revised = product_services.revise_product(
                    product, changes, acting_user=request.user
                )
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc
            except Conflict as exc:
                status, error = exc.status_code, exc.message
            except DomainError as exc:
                status = exc.status_code
                if section in ("pricing", "documents"):
                    _formset_error(form, exc)
                else:
                    _apply_errors(exc, form, {JSON_FIELD.get(section, ""): "value"})
            else:
                count = next((v.application_count for v in versions if v.pk == product.pk), 0)
                messages.success(
                    request,
                    f"Saved as version {revised.version}. Version {product.version} stays "
                    f"unchanged for the {count} application{'s' if count != 1 else ''} "
                    "priced on it.",
                )
                return redirect("origination:product-detail", product_id=revised.pk)
        else:
            status = 400
    else:
        form = _section_forms(section, product)
    return render(
        request,
        "origination/products/edit.html",
        {
            "product": product,
            "latest": latest,
            "is_latest": latest.pk == product.pk,
            "section": section,
            "title": SECTIONS[section][0],
            "form": form,
            "is_formset": section in ("pricing", "documents"),
            "error": error,
        },
        status=status,
    )


@staff_required(MANAGE)
def product_create(request):
    servicing = selectors_products.servicing_products()
    status, error = 200, ""
    if request.method == "POST":
        form = CreateProductForm(request.POST, servicing_products=servicing)
        if form.is_valid():
            data = dict(form.cleaned_data)
            code = data.pop("code")
            defaults = product_services.default_product_data(data.get("servicing_product_id"))
            # fees and the pricing grid start from the default product's; edit them next
            data["fees"] = defaults["fees"]
            data["pricing_grid"] = defaults["pricing_grid"]
            try:
                product = product_services.create_product(
                    code=code, data=data, acting_user=request.user
                )
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc
            except Conflict as exc:
                status = exc.status_code
                form.add_error("code", exc.message)
            except DomainError as exc:
                status = exc.status_code
                _apply_errors(exc, form)
            else:
                messages.success(
                    request,
                    f"Created {product.name} v1 with the default fees, pricing grid, rule set "
                    "and scorecard; review them below.",
                )
                return redirect("origination:product-detail", product_id=product.pk)
        else:
            status = 400
    else:
        defaults = product_services.default_product_data()
        form = CreateProductForm(
            initial={
                **{k: defaults.get(k) for k in LIMIT_FIELDS if k in defaults},
                "allowed_terms": ", ".join(str(t) for t in defaults["allowed_terms"]),
                "currency": "USD",
                "offer_valid_days": 30,
                "application_valid_days": 60,
            },
            servicing_products=servicing,
        )
    return render(
        request,
        "origination/products/create.html",
        {"form": form, "error": error},
        status=status,
    )
