from django import template

from customers.validators import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(value: str | None) -> str:
    """E.164 to display form: "+12125550123" -> "(212) 555-0123"."""
    return format_phone(value) if value else ""
