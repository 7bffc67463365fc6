"""Forms of the staff pipeline pages (origination.views.pipeline): the
board's filters, and the officer choices the board and the underwriting
queue filter by."""

from django import forms

from origination.models import ApplicationState

STATE_CHOICES = [("", "Open states"), ("all", "All states"), *ApplicationState.choices]


def officer_choices(officers) -> list[tuple[str, str]]:
    """Anyone, me, unassigned, then each of `officers` ([(id, name)])."""
    return [
        ("", "Anyone"),
        ("me", "Assigned to me"),
        ("none", "Unassigned"),
        *[(str(pk), name) for pk, name in officers],
    ]


class PipelineFilterForm(forms.Form):
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False)
    officer = forms.ChoiceField(label="Officer", required=False)
    product = forms.ChoiceField(label="Product", required=False)
    min_age = forms.IntegerField(label="Older than (days)", required=False, min_value=0)
    view = forms.ChoiceField(
        choices=[("board", "Board"), ("list", "List")], required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, officers=(), products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = officer_choices(officers)
        self.fields["product"].choices = [("", "Any product"), *products]
