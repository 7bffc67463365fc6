"""Instalment statuses as people read them.

Schedules held as plain rows (a modification's stored preview, a replayed
state) carry the status code; `{{ row.status|instalment_status }}` shows the
model's label for it, as `get_status_display` does on an Installment."""

from django import template

from servicing.models import Installment

register = template.Library()

_LABELS = dict(Installment.Status.choices)


@register.filter
def instalment_status(code) -> str:
    """The label of an instalment status code ("not_due" -> "Not due"); an
    unknown code reads as itself with underscores as spaces, capitalised."""
    if code in _LABELS:
        return _LABELS[code]
    return str(code or "").replace("_", " ").capitalize()
