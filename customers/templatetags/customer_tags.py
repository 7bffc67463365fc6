from django import template

from core.businessdate import get_business_date
from customers.phones import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(value: str | None) -> str:
    """E.164 to display form: "+12125550123" -> "(212) 555-0123"."""
    return format_phone(value) if value else ""


@register.simple_tag
def customer_age(customer) -> str:
    """The customer's age in whole years on the business date ("" without a
    date of birth): what a page may show instead of the date itself."""
    age = customer.age_on(get_business_date())
    return "" if age is None else str(age)
