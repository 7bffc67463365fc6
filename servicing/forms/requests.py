"""Service request pages' forms: the staff queue's filter, assigning a
request, resolving and declining one. The staff who may work requests come
from the requests selector."""

from django import forms

from servicing.models import ServiceRequest
from servicing.selectors.requests import request_workers


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "To do (open or in progress)"),
            *ServiceRequest.Status.choices,
            ("all", "All"),
        ],
    )
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any kind"), *ServiceRequest.Kind.choices]
    )
    assignee = forms.ChoiceField(required=False, label="Assigned to")
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Nobody"),
            *[(str(u.pk), u.get_username()) for u in request_workers()],
        ]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, label="Assign to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = request_workers()


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="How it was resolved",
        max_length=ServiceRequest.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason for declining",
        max_length=ServiceRequest.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
