"""Phone numbers shown as people write them."""

from customers.phones import format_phone


def test_phone_display():
    assert format_phone("+12125550123") == "(212) 555-0123"
    assert format_phone("+442079460958") == "+44 20 7946 0958"
