"""Decimal rules for money. Floats never touch money; rounding happens here.

Amounts are `Decimal` quantised to the currency's minor unit (cents for USD).
Products state their rounding policy; the default is half-up to the cent.
"""

from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)

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


# ISO 4217 currencies whose minor unit is not two digits; every other code has
# two. The platform keeps amounts in cents (servicing refuses other currencies),
# so this only matters if that ever changes: the display then follows the code.
MINOR_UNITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"),
        0,
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}


def minor_units(currency: str | None = None) -> int:
    """Digits after the decimal point for `currency` (ISO 4217; USD when None)."""
    if not currency:
        return 2
    return MINOR_UNITS.get(str(currency).strip().upper(), 2)


def format_money(value: object, currency: str | None = None, *, rounding: str = "half_up") -> str:
    """An amount as people read it: "1,234.56", "-1,234.56", "0.00".

    `value` is a Decimal, int or decimal string (a JSON-stored "5709.11"); floats
    are refused. It is rounded with the named core.money mode to the currency's
    minor unit (two digits unless ISO 4217 says otherwise), with comma thousands
    separators and a leading minus sign for negatives; a negative amount that
    rounds to zero shows as "0.00". None and "" give "" so a template can follow
    it with `|default:"-"`. Anything else that is not a number raises ValueError.
    No currency symbol: the page or document puts "$" or the code where it wants.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    try:
        amount = to_decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    places = minor_units(currency)
    unit = Decimal(1).scaleb(-places)
    rounded = amount.quantize(unit, rounding=ROUNDING_MODES[rounding])
    if rounded == 0:
        rounded = abs(rounded)  # never "-0.00"
    return f"{rounded:,.{places}f}"
