"""Servicing products in the Django admin (configuration only, per
ARCHITECTURE.md): an administrator reads and changes a product's servicing
settings here. The form runs the service's validator and saving goes through
servicing.services.products (validation, permission and the audit event), so
the admin never writes a product by itself. Loans, payments and the ledger
are not registered: money moves only through the services and staff pages.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from core.exceptions import DomainError, PermissionDenied, ValidationFailed
from servicing.models import ProductAccount, ServicingProduct
from servicing.services import products as product_services

EDITABLE = tuple(name for name in product_services.SETTING_FIELDS)


class ServicingProductForm(forms.ModelForm):
    """Every setting, with the allocation order typed as a comma-separated
    list ("fees, penalties, interest, principal")."""

    allocation_order = forms.CharField(
        help_text="Components in the order a payment pays them, separated by commas: "
        "fees, penalties, interest, principal.",
    )

    class Meta:
        model = ServicingProduct
        fields = ("code", *EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allocation_order"] = ", ".join(self.instance.allocation_order or [])
        else:
            self.initial.setdefault("allocation_order", ", ".join(product_services.DEFAULT_ORDER))

    def clean_allocation_order(self):
        raw = self.cleaned_data["allocation_order"]
        return [part.strip().lower() for part in raw.split(",") if part.strip()]

    def clean(self):
        cleaned = super().clean()
        # fields that already failed their own parsing are not re-checked
        values = {name: cleaned[name] for name in EDITABLE if name in cleaned}
        try:
            normalised = product_services.validate_settings(values)
        except ValidationFailed as error:
            for name, messages in error.fields.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            cleaned.update(normalised)
        return cleaned


class ProductAccountInline(admin.TabularInline):
    """The product's chart of accounts, read-only: it is set when the
    product (version) is created."""

    model = ProductAccount
    fields = ("role", "account")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServicingProduct)
class ServicingProductAdmin(admin.ModelAdmin):
    form = ServicingProductForm
    inlines = (ProductAccountInline,)
    list_display = (
        "code",
        "version",
        "name",
        "currency",
        "is_active",
        "late_fee_type",
        "charge_off_days_past_due",
        "statement_cycle_day",
    )
    list_filter = ("is_active", "currency", "late_fee_type")
    search_fields = ("code", "name")
    fieldsets = (
        (None, {"fields": ("code", "version", "name", "currency", "is_active")}),
        (
            "Engine parameters (copied onto each loan at boarding)",
            {
                "fields": (
                    "interest_method",
                    "amortization",
                    "day_count",
                    "repayment_every",
                    "repayment_unit",
                    "installment_multiple",
                    "rounding",
                    "installment_method",
                    "equal_principal_rounding",
                )
            },
        ),
        (
            "Allocation",
            {
                "fields": (
                    "allocation_order",
                    "allocation_method",
                    "prepayment_mode",
                    "excess_default",
                )
            },
        ),
        (
            "Fees",
            {
                "fields": (
                    "late_fee_type",
                    "late_fee_amount",
                    "late_fee_percent",
                    "late_fee_grace_days",
                    "late_fee_cap",
                    "nsf_fee_amount",
                )
            },
        ),
        (
            "Life events",
            {
                "fields": (
                    "charge_off_days_past_due",
                    "arrears_grace_days",
                    "statement_cycle_day",
                    "modification_approval_limit",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # code and version identify a product version; a new version of a
        # code is made with create_product
        return ("code", "version", "is_active") if obj else ("version", "is_active")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # loans keep the version they were boarded on

    def save_model(self, request, obj, form, change):
        try:
            if change:
                saved = product_services.update_product(
                    ServicingProduct.objects.get(pk=obj.pk),
                    changes={name: form.cleaned_data[name] for name in form.changed_data},
                    acting_user=request.user,
                )
            else:
                values = {name: form.cleaned_data[name] for name in EDITABLE}
                saved = product_services.create_product(
                    code=form.cleaned_data["code"],
                    acting_user=request.user,
                    **values,
                )
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except DomainError as error:
            # e.g. Conflict: a new allocation order on a product with loans
            self.message_user(request, error.message, level="error")
            raise _Refused(error) from error
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(self, request, form, formsets, change):
        """The chart is read-only here; create_product writes it."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused:
            from django.shortcuts import redirect

            return redirect(request.path)


class _Refused(Exception):
    """A service refused the save after the form was valid."""
