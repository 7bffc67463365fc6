"""The `money` template filter, a builtin of every template (TEMPLATES OPTIONS
"builtins" in settings), so no page needs `{% load %}` for it.

    {{ loan.principal_balance|money }}            -> 5,709.11
    {{ loan.principal|money:loan.currency }}      -> 5,709.11 (the currency's minor unit)
    {{ app.approved_amount|money|default:"-" }}   -> "-" when None

It is `core.money.format_money`, the one way an amount is shown on a page, a
PDF or a CSV; a value that is not an amount raises rather than showing a
wrong figure.
"""

import re
from decimal import Decimal

from django import template

from core.money import format_money

register = template.Library()


@register.filter(name="money", is_safe=True)
def money(value, currency=None) -> str:
    """`value` (Decimal, int or decimal string) as "1,234.56"; None or "" as ""."""
    return format_money(value, currency or None)


# Audit metadata and field changes keep the values as recorded ("1250.50");
# on a page an amount under one of these keys is shown like every other amount.
_AMOUNT_KEY = re.compile(
    r"^(amount|principal|interest|fees?|penalties|credit|debit|total|per_diem|payment|"
    r"impact|limit|.+_(amount|balance|due|paid|fee|fees|total|principal|interest|limit))$"
)


@register.filter(name="audit_value", is_safe=False)
def audit_value(value, key: str = ""):
    """An audit metadata or change value; an amount under a money key is formatted."""
    if not _AMOUNT_KEY.match(str(key or "")) or isinstance(value, bool | float):
        return value
    if not isinstance(value, str | int | Decimal):
        return value
    try:
        return format_money(value)
    except ValueError:
        return value
