"""Calculator forms. Amounts and rates are typed as people write them (rates
in percent); the engine's own validation supplies the field errors for
combinations the form cannot check alone (e.g. first payment before
disbursement)."""

from django import forms

from core.finance import Amortization, DayCount, FeeTreatment, InterestMethod, RepaymentUnit
from core.models import INSTALLMENT_METHODS, PRINCIPAL_ROUNDINGS
from core.money import ROUNDING_MODES

LABELS = {
    "30/360": "30/360 (US)",
    "30E/360": "30E/360 (Eurobond)",
    "actual/365": "Actual/365 Fixed",
    "actual/360": "Actual/360",
    "actual/actual": "Actual/Actual (ISDA)",
    "actual/364": "Actual/364",
    "semi_months": "semi-months (twice a month)",
    "declining_balance": "Declining balance",
    "flat": "Flat",
    "equal_installments": "Equal instalments (annuity)",
    "equal_principal": "Equal principal",
    "interest_only": "Interest only, balloon at the end",
    "withheld": "Withheld from the disbursement",
    "financed": "Financed (added to the loan)",
    "paid_separately": "Paid separately at closing",
    "half_up": "Half up",
    "half_even": "Half even (banker's)",
    "up": "Up",
    "down": "Down",
}


def _choices(values) -> list[tuple[str, str]]:
    return [(v, LABELS.get(v, v.replace("_", " "))) for v in values]


def _money(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


def _date(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


class LoanCalculatorForm(forms.Form):
    principal = _money("Loan amount ($)")
    annual_rate = forms.DecimalField(
        label="Interest rate (% a year)",
        max_digits=9,
        decimal_places=6,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    term = forms.IntegerField(label="Number of payments", min_value=1)
    repayment_every = forms.IntegerField(label="Pay every", min_value=1, initial=1)
    repayment_unit = forms.ChoiceField(
        label="Period", choices=_choices(e.value for e in RepaymentUnit), initial="months"
    )
    disbursement_date = _date("Disbursement date")
    first_payment_date = _date(
        "First payment date",
        required=False,
        help_text="Leave blank for one period after disbursement.",
    )
    interest_method = forms.ChoiceField(
        label="Interest method",
        choices=_choices(e.value for e in InterestMethod),
        initial="declining_balance",
    )
    amortization = forms.ChoiceField(
        label="Amortisation",
        choices=_choices(e.value for e in Amortization),
        initial="equal_installments",
    )
    day_count = forms.ChoiceField(
        label="Day count", choices=_choices(e.value for e in DayCount), initial="30/360"
    )
    installment_multiple = forms.DecimalField(
        label="Round instalment to a multiple of", max_digits=12, decimal_places=2, initial="0.01"
    )
    rounding = forms.ChoiceField(
        label="Rounding", choices=_choices(ROUNDING_MODES), initial="half_up"
    )
    installment_method = forms.ChoiceField(
        label="Instalment solved with",
        choices=INSTALLMENT_METHODS,
        initial="nominal_rate",
    )
    equal_principal_rounding = forms.ChoiceField(
        label="Equal-principal part",
        choices=PRINCIPAL_ROUNDINGS,
        initial="cents",
    )
    grace_principal_periods = forms.IntegerField(
        label="Principal grace (periods)", min_value=0, initial=0
    )
    grace_interest_periods = forms.IntegerField(
        label="Deferred interest (periods)",
        min_value=0,
        initial=0,
        help_text="Interest is charged but collected with the first payment after.",
    )
    interest_free_periods = forms.IntegerField(
        label="Interest-free periods", min_value=0, initial=0
    )
    balloon_amount = _money("Balloon amount ($)", initial="0.00")

    ADVANCED = (
        "repayment_every",
        "repayment_unit",
        "interest_method",
        "amortization",
        "day_count",
        "installment_multiple",
        "rounding",
        "installment_method",
        "equal_principal_rounding",
        "grace_principal_periods",
        "grace_interest_periods",
        "interest_free_periods",
        "balloon_amount",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.ADVANCED:
            self.fields[name].required = False

    def terms_data(self) -> dict:
        """Cleaned values named as the engine's terms; blanks take defaults."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class FeeForm(forms.Form):
    name = forms.CharField(label="Fee", max_length=100, required=False)
    amount = _money("Amount ($)", required=False, min_value=0)
    treatment = forms.ChoiceField(
        label="Treatment",
        choices=_choices(e.value for e in FeeTreatment),
        initial="withheld",
        required=False,
    )
    finance_charge = forms.BooleanField(
        label="Prepaid finance charge", required=False, initial=True
    )

    def has_changed(self) -> bool:
        # A row without a name or an amount is an unused slot, whatever its
        # select and checkbox say, so the formset skips validating it.
        name, amount = self.add_prefix("name"), self.add_prefix("amount")
        return bool(self.data.get(name) or self.data.get(amount))

    def clean(self):
        data = super().clean()
        if data.get("name") and data.get("amount") is None:
            self.add_error("amount", "Enter the fee amount.")
        if data.get("amount") is not None and not data.get("name"):
            self.add_error("name", "Name the fee.")
        data["treatment"] = data.get("treatment") or "withheld"
        return data


FeeFormSet = forms.formset_factory(FeeForm, extra=2, max_num=5)


class AprCalculatorForm(forms.Form):
    """Advances and payments as text, one `YYYY-MM-DD amount` per line, so a
    compliance officer can paste a stream from a spreadsheet."""

    advances = forms.CharField(
        label="Advances",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line: date and amount, e.g. <code>2026-01-15 5000.00</code>.",
    )
    payments = forms.CharField(
        label="Payments",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=(
            "One per line: date and amount. A line "
            "<code>36 x 166.07 from 2026-02-15 monthly</code> adds a run."
        ),
    )
