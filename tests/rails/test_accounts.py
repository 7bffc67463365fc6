"""Bank account checks: routing numbers (ABA check digit) and account numbers."""

import pytest

from core.exceptions import ValidationFailed
from rails.accounts import validate_account_number, validate_routing_number


def aba_371(routing: str) -> bool:
    """Independent oracle: digits weighted 3,7,1 repeating sum to a multiple of 10."""
    return sum(int(d) * w for d, w in zip(routing, (3, 7, 1) * 3, strict=True)) % 10 == 0


@pytest.mark.parametrize("routing", ["011000015", "021000021", "122000247", "111000025"])
def test_valid_routing_numbers_pass(routing):
    assert aba_371(routing)
    assert validate_routing_number(routing) == routing


def test_routing_number_typed_with_spaces_is_normalised():
    assert validate_routing_number(" 0210-00021 ") == "021000021"


@pytest.mark.parametrize("routing", ["011000016", "021000022", "123456789"])
def test_bad_check_digit_is_refused(routing):
    assert not aba_371(routing)
    with pytest.raises(ValidationFailed) as exc:
        validate_routing_number(routing)
    assert exc.value.code == "invalid_routing_number"
    assert "check digit" in exc.value.fields["routing_number"]


@pytest.mark.parametrize("routing", ["", "02100002", "0210000211", "02100002A"])
def test_routing_number_must_be_nine_digits(routing):
    with pytest.raises(ValidationFailed) as exc:
        validate_routing_number(routing, field="bank_routing")
    assert exc.value.fields == {"bank_routing": "A routing number is 9 digits."}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1234", "1234"), ("12345678901234567", "12345678901234567"), ("1234 5678-90", "1234567890")],
)
def test_account_numbers_of_4_to_17_digits_pass(typed, expected):
    assert validate_account_number(typed) == expected


@pytest.mark.parametrize("typed", ["", "123", "123456789012345678", "12AB5678"])
def test_other_account_numbers_are_refused(typed):
    with pytest.raises(ValidationFailed) as exc:
        validate_account_number(typed)
    assert exc.value.fields == {"account_number": "An account number is 4 to 17 digits."}
