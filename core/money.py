"""Decimal rules for money. Floats never touch money; rounding happens here.

Amounts are `Decimal` quantised to the currency's minor unit (cents for USD).
Products state their rounding policy; the default is half-up to the cent.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "up": ROUND_UP,
    "down": ROUND_DOWN,
}


def to_decimal(value: object) -> Decimal:
    """Convert an int, str or Decimal to Decimal; refuse floats outright."""
    if isinstance(value, float):
        raise TypeError("floats are not allowed for money; pass a str or Decimal")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def quantize(value: object, unit: Decimal | str = CENT, rounding: str = "half_up") -> Decimal:
    """Round `value` to a multiple of `unit` (default one cent) with a named mode.

    `unit` may be any positive multiple such as "0.01", "1" or "5": the value
    is divided by it, rounded to an integer, and multiplied back.
    """
    amount = to_decimal(value)
    if unit is CENT or unit == "0.01":
        # Fast path for the common case; same result as the general one below.
        return amount.quantize(CENT, rounding=ROUNDING_MODES[rounding])
    step = to_decimal(unit)
    if step <= 0:
        raise ValueError("rounding unit must be positive")
    mode = ROUNDING_MODES[rounding]
    units = (amount / step).quantize(Decimal(1), rounding=mode)
    return (units * step).quantize(CENT if step.as_tuple().exponent >= -2 else step)


def format_money(value: Decimal, currency: str = "USD") -> str:
    """Human display: $1,234.56 (negative as -$1,234.56)."""
    amount = quantize(value)
    sign = "-" if amount < 0 else ""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{abs(amount):,.2f}"
