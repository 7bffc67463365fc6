"""Forms of the staff application pages (origination.views.applications):
the new application a loan officer takes in the branch, assignment, and
the reason to return or withdraw. Forms only parse; the services validate
against the product and the state chart (their errors are attached back to
the fields). The pipeline filters are in forms.pipeline, the underwriting
actions in forms.underwriting, the bank account in forms.disbursement."""

from decimal import Decimal

from django import forms

from origination.models import Application

CONSENT_VERSION = "branch-2026-01"
CREDIT_PULL_TEXT = (
    "The applicant authorised us, in person at the branch, to obtain a consumer credit "
    "report for this application."
)
E_RECORDS_TEXT = (
    "The applicant agreed, in person at the branch, to receive disclosures and sign "
    "documents electronically."
)


class NewApplicationForm(forms.Form):
    customer = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Pick the applicant (search by name or customer number)."},
    )
    co_applicant_number = forms.CharField(
        label="Co-applicant customer number",
        required=False,
        max_length=20,
        help_text="Optional, e.g. C-0000042.",
    )
    product = forms.ChoiceField(label="Product")
    # No floor of its own: the service states the product's range for any amount outside it.
    requested_amount = forms.DecimalField(label="Amount", max_digits=14, decimal_places=2)
    requested_term = forms.IntegerField(label="Term (months)", min_value=1)
    purpose = forms.ChoiceField(choices=Application.Purpose.choices)
    employment_status = forms.ChoiceField(choices=Application.EmploymentStatus.choices)
    employer = forms.CharField(max_length=200, required=False)
    employment_months = forms.IntegerField(label="Months employed", min_value=0, required=False)
    gross_monthly_income = forms.DecimalField(
        label="Gross monthly income", max_digits=14, decimal_places=2, min_value=0
    )
    housing_status = forms.ChoiceField(choices=Application.HousingStatus.choices)
    housing_cost = forms.DecimalField(
        label="Housing cost (monthly)",
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=Decimal("0.00"),
    )
    other_obligations = forms.DecimalField(
        label="Other obligations (monthly)",
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=Decimal("0.00"),
    )
    consent_credit_pull = forms.BooleanField(
        label="Applicant consents to a credit report pull", required=False
    )
    consent_e_records = forms.BooleanField(
        label="Applicant consents to electronic records", required=False
    )
    consent_version = forms.CharField(
        label="Consent wording version", max_length=20, initial=CONSENT_VERSION
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Choose a product"), *products]

    def application_data(self) -> dict:
        names = (
            "requested_amount",
            "requested_term",
            "purpose",
            "employment_status",
            "employer",
            "employment_months",
            "gross_monthly_income",
            "housing_status",
            "housing_cost",
            "other_obligations",
        )
        data = {name: self.cleaned_data.get(name) for name in names}
        data["housing_cost"] = data["housing_cost"] or Decimal("0.00")
        data["other_obligations"] = data["other_obligations"] or Decimal("0.00")
        data["employer"] = data["employer"] or ""
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class AssignForm(forms.Form):
    user = forms.ChoiceField(label="Assign to", required=False)

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            ("", "Unassigned"),
            *[(str(pk), name) for pk, name in officers],
        ]
