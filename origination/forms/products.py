"""Forms of the loan products admin (staff). They only parse input into the
values services.products takes; the service validates the product as a
whole (limits, fees, grid, rule set, scorecard) and its errors are put back
on these forms by the views."""

import json
from decimal import Decimal

from django import forms

from origination.decisioning.rules import RuleSetInvalid, validate_rule_set
from origination.decisioning.scorecard import ScorecardInvalid, validate_scorecard

JSON_ROWS = 22


def _terms_list(value: str) -> list[int]:
    terms = []
    for part in (value or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise forms.ValidationError(f"{part!r} is not a whole number of months.")
        terms.append(int(part))
    return sorted(set(terms))


class LimitsForm(forms.Form):
    """Name, limits, terms and the offer/servicing settings of a product."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    currency = forms.CharField(max_length=3, initial="USD")
    min_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    max_amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    min_term = forms.IntegerField(min_value=1, help_text="Months.")
    max_term = forms.IntegerField(min_value=1, help_text="Months.")
    allowed_terms = forms.CharField(
        required=False,
        help_text="Terms offered, in months, separated by commas (e.g. 12, 24, 36). "
        "Empty: any term within the limits.",
    )
    servicing_product_id = forms.TypedChoiceField(
        label="Servicing product",
        coerce=int,
        empty_value=None,
        required=False,
        help_text="The servicing product loans of this product are boarded onto.",
    )
    late_fee_text = forms.CharField(
        max_length=300, required=False, label="Late charge (disclosure text)"
    )
    offer_valid_days = forms.IntegerField(min_value=1, label="Offers valid (days)")
    application_valid_days = forms.IntegerField(min_value=1, label="Applications valid (days)")
    auto_disburse = forms.BooleanField(
        required=False, label="Disburse automatically after signature"
    )

    def __init__(self, *args, servicing_products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["servicing_product_id"].choices = [
            ("", "— none —"),
            *[(p["id"], f"{p['name']} ({p['code']} v{p['version']})") for p in servicing_products],
        ]

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean_allowed_terms(self):
        return _terms_list(self.cleaned_data.get("allowed_terms", ""))

    @staticmethod
    def initial_for(product) -> dict:
        initial = {name: getattr(product, name) for name in LIMIT_FIELDS}
        initial["allowed_terms"] = ", ".join(str(t) for t in product.allowed_terms or [])
        return initial


LIMIT_FIELDS = tuple(LimitsForm.base_fields)


class CreateProductForm(LimitsForm):
    code = forms.SlugField(
        max_length=40,
        help_text="Stable identifier of the product (letters, digits, hyphens); "
        "every version keeps it.",
    )

    field_order = ["code"]


class JsonForm(forms.Form):
    """One JSON document in a textarea; subclasses check its shape."""

    label = "JSON"
    help = ""
    value = forms.CharField(widget=forms.Textarea(attrs={"rows": JSON_ROWS, "class": "mono"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].label = self.label
        self.fields["value"].help_text = self.help

    @classmethod
    def initial_for(cls, data) -> dict:
        return {"value": json.dumps(data, indent=2)}

    def clean_value(self):
        text = self.cleaned_data["value"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
        return self.check(data)

    def check(self, data):
        return data


class FeesForm(JsonForm):
    label = "Fees"
    help = (
        'A list of fees: {"name", "kind": "percent"|"flat", "value": "0.03" (a string), '
        '"treatment": "withheld"|"financed"|"paid_separately", "finance_charge": true|false}.'
    )

    def check(self, data):
        if not isinstance(data, list):
            raise forms.ValidationError("Fees are a JSON list ([] for none).")
        return data


class RuleSetForm(JsonForm):
    label = "Policy rule set"
    help = (
        'An object {"name", "version", "rules": [...]}; each rule has code, description, '
        "variable, operator, value (numbers as strings), outcome (approve|decline|refer) "
        "and reason_code."
    )

    def check(self, data):
        try:
            validate_rule_set(data)
        except RuleSetInvalid as exc:
            raise forms.ValidationError(list(exc.errors)) from None
        return data


class ScorecardForm(JsonForm):
    label = "Scorecard"
    help = (
        'An object {"name", "version", "base_points", "characteristics": [...]}; each '
        "characteristic has a variable, reason_code, missing_points and bins."
    )

    def check(self, data):
        try:
            validate_scorecard(data)
        except ScorecardInvalid as exc:
            raise forms.ValidationError(list(exc.errors)) from None
        return data


class GridRowForm(forms.Form):
    """One band of the risk-based pricing grid."""

    min_score = forms.IntegerField(min_value=0, max_value=999)
    max_score = forms.IntegerField(min_value=0, max_value=999)
    min_term = forms.IntegerField(min_value=1)
    max_term = forms.IntegerField(min_value=1)
    annual_rate = forms.DecimalField(
        max_digits=6,
        decimal_places=4,
        min_value=0,
        max_value=Decimal("0.9999"),
        help_text="0.1299 = 12.99 %",
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["min_score"] > data["max_score"]:
            self.add_error("max_score", "Must be at least the minimum score.")
        if data["min_term"] > data["max_term"]:
            self.add_error("max_term", "Must be at least the minimum term.")
        return data


class DocumentRowForm(forms.Form):
    """One required document of the checklist."""

    kind = forms.SlugField(max_length=40, help_text="e.g. proof_of_income")
    label = forms.CharField(max_length=120)


GridFormSet = forms.formset_factory(GridRowForm, extra=2, can_delete=True)
DocumentFormSet = forms.formset_factory(DocumentRowForm, extra=2, can_delete=True)


def formset_rows(formset) -> list[dict]:
    """The kept rows of a valid formset (blank extra rows and deleted ones dropped)."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append({k: v for k, v in data.items() if k != "DELETE"})
    return rows


def grid_rows(formset) -> list[dict]:
    return [
        {
            "min_score": row["min_score"],
            "max_score": row["max_score"],
            "min_term": row["min_term"],
            "max_term": row["max_term"],
            "annual_rate": str(row["annual_rate"]),
        }
        for row in formset_rows(formset)
    ]
