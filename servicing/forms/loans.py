"""Staff loan pages' forms: the loan search, posting a payment, reversing one
and a servicing note."""

from django import forms

from servicing.models import LoanNote, LoanState, Payment


class LoanSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Loan number, customer, C-number, reference"}
        ),
    )
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *LoanState.choices]
    )
    dpd_min = forms.IntegerField(label="Days past due from", required=False, min_value=0)
    dpd_max = forms.IntegerField(label="to", required=False, min_value=0)

    def clean(self):
        data = super().clean()
        low, high = data.get("dpd_min"), data.get("dpd_max")
        if low is not None and high is not None and low > high:
            self.add_error("dpd_max", "Must not be less than the lower bound.")
        return data


class PaymentForm(forms.Form):
    """Types only; the amount and date rules are the service's (their
    messages come back as this form's errors)."""

    amount = forms.DecimalField(label="Amount", max_digits=14)
    received_on = forms.DateField(
        label="Received on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The effective date. An earlier date re-applies later payments.",
    )
    method = forms.ChoiceField(label="Method", choices=Payment.Method.choices)
    reference = forms.CharField(
        label="Reference", required=False, max_length=100, help_text="Check number, trace id…"
    )
    excess = forms.ChoiceField(
        label="Anything beyond what is due",
        choices=[
            ("prepayment", "Prepay principal (or pay off)"),
            ("unapplied", "Hold as unapplied credit"),
        ],
    )
    token = forms.CharField(widget=forms.HiddenInput)


class ReversalForm(forms.Form):
    # Starts blank: a pre-selected reason once charged an NSF fee on a payment
    # that was merely keyed twice. Only NSF and ACH return charge the fee.
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *Payment.ReversalReason.choices],
        error_messages={"required": "Choose why the payment is being reversed."},
        help_text="Only a returned payment (NSF or ACH return) charges the NSF fee.",
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(forms.Form):
    """Types only; blank and length are the service's rules (notes.clean_text)."""

    text = forms.CharField(
        label="Note",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": LoanNote.MAX_TEXT}),
        help_text=f"Up to {LoanNote.MAX_TEXT:,} characters. Notes cannot be edited or deleted.",
    )
