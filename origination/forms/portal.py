"""Forms of the borrower's application pages in the portal
(origination.views.portal): the apply steps, document upload, offer
choice, e-records consent, signing, the bank account and withdrawing.

The consent wording shown to the borrower, with its version, lives here:
the exact text shown is what record_consent stores."""

from django import forms

from core.money import format_money
from customers.models import US_STATES
from origination.models import Application, Disbursement
from origination.services.applications import amount_problem

CONSENT_VERSION = "portal-2026-01"
CREDIT_PULL_TEXT = (
    "I authorize the lender and its service providers to obtain my consumer credit "
    "report from one or more credit reporting agencies to evaluate this application and, "
    "if a loan is made, to review, service and collect it."
)
E_RECORDS_TEXT = (
    "I agree to receive disclosures, notices and other records about this application and "
    "any resulting loan electronically, and to sign documents electronically. I can download "
    "or print them, ask for paper copies at no charge, and withdraw this consent at any time "
    "by contacting you; withdrawing does not affect records already provided."
)


def _money(
    label: str, *, required: bool = True, help_text: str = "", min_value=0
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=min_value,
        max_digits=14,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )


def _blank(choices) -> list:
    return [("", "Choose…"), *choices]


class LoanStepForm(forms.Form):
    """Step 1: product, amount, term, purpose."""

    product = forms.ChoiceField(label="Loan")
    # No floor of its own: the chosen product's range is the rule (see clean).
    requested_amount = _money("How much would you like to borrow?", min_value=None)
    requested_term = forms.TypedChoiceField(label="Over how many months?", coerce=int)
    purpose = forms.ChoiceField(
        label="What is it for?", choices=_blank(Application.Purpose.choices)
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {str(p.pk): p for p in products}
        self.fields["product"].choices = [
            (
                str(p.pk),
                f"{p.name} ({format_money(p.min_amount, p.currency)} to "
                f"{format_money(p.max_amount, p.currency)} {p.currency})",
            )
            for p in products
        ]
        terms = sorted(
            {int(t) for p in products for t in (p.allowed_terms or [])}
            or {t for p in products for t in range(p.min_term, p.max_term + 1)}
        )
        self.fields["requested_term"].choices = _blank([(t, f"{t} months") for t in terms])
        if len(products) == 1:
            self.fields["product"].initial = str(products[0].pk)

    def clean(self):
        cleaned = super().clean()
        product = self.products.get(cleaned.get("product") or "")
        amount = cleaned.get("requested_amount")
        if product is not None and amount is not None:
            problem = amount_problem(product, amount)
            if problem:
                self.add_error("requested_amount", problem)
        return cleaned

    def chosen_product(self):
        return self.products[self.cleaned_data["product"]]

    def values(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("requested_amount", "requested_term", "purpose")
        }


class AboutStepForm(forms.Form):
    """Step 2: employment, income, housing; and the identity the bureau
    needs when the customer has none on file (date of birth, tax id,
    address)."""

    employment_status = forms.ChoiceField(
        label="Employment", choices=_blank(Application.EmploymentStatus.choices)
    )
    employer = forms.CharField(label="Employer", max_length=200, required=False)
    employment_months = forms.IntegerField(
        label="Months with this employer", min_value=0, required=False
    )
    gross_monthly_income = _money(
        "Gross monthly income", help_text="Before tax, from all sources you want us to consider."
    )
    housing_status = forms.ChoiceField(
        label="Housing", choices=_blank(Application.HousingStatus.choices)
    )
    housing_cost = _money("Monthly rent or mortgage")
    other_obligations = _money(
        "Other monthly debt payments",
        help_text="Payments not on your credit report (e.g. family loans, alimony).",
    )

    identity_fields = ("date_of_birth", "tax_id")
    address_fields = ("line1", "line2", "city", "state", "postal_code")
    application_fields = (
        "employment_status",
        "employer",
        "employment_months",
        "gross_monthly_income",
        "housing_status",
        "housing_cost",
        "other_obligations",
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.need_dob = not customer.has_date_of_birth
        self.need_tax_id = not customer.tax_id_last4
        self.need_address = not customer.addresses.exists()
        if self.need_dob:
            self.fields["date_of_birth"] = forms.DateField(
                label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
            )
        if self.need_tax_id:
            self.fields["tax_id"] = forms.CharField(
                label="Social Security number",
                max_length=11,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                help_text="We need it to check your identity and pull your credit report.",
            )
        if self.need_address:
            self.fields["line1"] = forms.CharField(label="Street address", max_length=200)
            self.fields["line2"] = forms.CharField(
                label="Apt, suite, unit", max_length=200, required=False
            )
            self.fields["city"] = forms.CharField(label="City", max_length=100)
            self.fields["state"] = forms.ChoiceField(label="State", choices=_blank(US_STATES))
            self.fields["postal_code"] = forms.CharField(label="ZIP code", max_length=10)

    def clean(self):
        data = super().clean()
        if (
            data.get("employment_status") in ("employed", "self_employed")
            and data.get("employment_months") is None
        ):
            self.add_error("employment_months", "State how long you have been employed.")
        return data

    @property
    def needs_identity(self) -> bool:
        return self.need_dob or self.need_tax_id or self.need_address

    def identity_bound_fields(self):
        return [self[n] for n in (*self.identity_fields, *self.address_fields) if n in self.fields]

    def application_values(self) -> dict:
        values = {name: self.cleaned_data.get(name) for name in self.application_fields}
        if values["employment_months"] is None:
            values["employment_months"] = ""
        return values

    def customer_changes(self) -> dict:
        changes = {}
        if self.need_dob:
            changes["date_of_birth"] = self.cleaned_data["date_of_birth"]
        if self.need_tax_id:
            changes["tax_id"] = self.cleaned_data["tax_id"]
            changes["tax_id_type"] = "ssn"
        return changes

    def address(self) -> dict | None:
        if not self.need_address:
            return None
        values = {n: self.cleaned_data.get(n) or "" for n in self.address_fields}
        values["kind"] = "residential"
        return values


class ConsentsStepForm(forms.Form):
    """Step 3: the credit-pull and electronic-records consents."""

    credit_pull = forms.BooleanField(
        label="I authorize the credit report pull described above.", required=True
    )
    e_records = forms.BooleanField(
        label="I agree to electronic records and signatures as described above.", required=True
    )


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="Document")
    file = forms.FileField(
        label="File",
        help_text="PDF, JPEG or PNG.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds


class OfferChoiceForm(forms.Form):
    offer_id = forms.TypedChoiceField(
        label="Choose your offer", coerce=int, widget=forms.RadioSelect
    )

    def __init__(self, *args, offers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer_id"].choices = [(o.pk, str(o.pk)) for o in offers]
        if offers:
            self.fields["offer_id"].initial = offers[0].pk


class ERecordsConsentForm(forms.Form):
    agree = forms.BooleanField(
        label="I agree to electronic records and signatures as described above.", required=True
    )


class SignForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agree = forms.BooleanField(
        label="I agree to the loan agreement and have read the Truth in Lending disclosure.",
        required=True,
    )
    shown_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)


class BankAccountForm(forms.Form):
    routing_number = forms.CharField(
        label="Routing number",
        max_length=9,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_number = forms.CharField(
        label="Account number",
        max_length=17,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_type = forms.ChoiceField(
        label="Account type",
        choices=Disbursement.AccountType.choices,
        initial=Disbursement.AccountType.CHECKING,
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing? (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label="Yes, withdraw this application. I understand it cannot be reopened.",
        required=True,
        error_messages={"required": "Tick the box to confirm that you want to withdraw."},
    )
