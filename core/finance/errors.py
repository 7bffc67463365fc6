"""Exceptions raised by the loan math engine.

`TermsError` carries a dict of field -> message keyed by the public API field
names (principal, annual_rate, term, ...), so the quote API can return them
as a 400 with field errors without translating anything.
"""

from __future__ import annotations


class FinanceError(ValueError):
    """Base class of every error raised by `core.finance`."""


class TermsError(FinanceError):
    """Bad loan terms or arguments. `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        detail = "; ".join(f"{field}: {message}" for field, message in self.errors.items())
        super().__init__(detail or "invalid terms")


class AprError(FinanceError):
    """The APR equation has no solution for the given advances and payments."""
