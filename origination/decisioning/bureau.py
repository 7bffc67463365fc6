"""Credit bureau adapter interface, raw report parser and retry policy.

An adapter pulls one consumer report and returns it *raw*, exactly as the
bureau sent it (a JSON-safe dict, to be stored as evidence); `parse_report`
turns that raw dict into a frozen `CreditReport`. Nothing here reads the clock:
the caller passes `pulled_at`, and every date in a simulated report is
relative to it. The one exception is `pull_with_retry`'s per-attempt deadline
(settings.BUREAU_TIMEOUT_SECONDS), which bounds how long one pull may take.

The simulated bureau lives in `origination.decisioning.simulated`.

Raw report shape (all money as strings, all dates ISO 8601)::

    {"bureau": "SIMULATED", "report_id": "SIM-...", "pulled_at": "...",
     "subject": {"first_name", "last_name", "date_of_birth", "tax_id_last4",
                 "address_line", "postal_code"},
     "hit": true,
     "score": {"value": 712, "model": "...", "factors": [{"code", "text"}]} | null,
     "tradelines": [{"creditor", "type", "balance", "credit_limit",
                     "monthly_payment", "opened", "status",
                     "worst_delinquency", "payment_history"}],
     "inquiries": [{"date", "creditor"}],
     "public_records": [{"type", "filed", "amount"}]}

`payment_history` is the last 24 months, most recent first, one character
per month: ``C`` current, ``1`` 30 days late, ``2`` 60, ``3`` 90 or more,
``-`` no data (account not yet open).
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol, runtime_checkable

TRADELINE_TYPES = ("installment", "revolving", "mortgage")
TRADELINE_STATUSES = ("open", "closed", "paid", "collection", "chargeoff")
PUBLIC_RECORD_TYPES = ("bankruptcy_ch7", "bankruptcy_ch13", "civil_judgment", "tax_lien")
BANKRUPTCY_TYPES = ("bankruptcy_ch7", "bankruptcy_ch13")
HISTORY_CODES = {"C": 0, "-": 0, "1": 30, "2": 60, "3": 90}

# A file with fewer trade lines, or younger than this, cannot support a score.
THIN_FILE_MIN_TRADELINES = 2
THIN_FILE_MIN_AGE_MONTHS = 6


class BureauError(Exception):
    """Base class for bureau failures."""


class BureauUnavailable(BureauError):
    """The bureau could not answer (down, refused, timed out). Retryable."""


class BureauTimeout(BureauUnavailable):
    """The bureau did not answer in time. Adapters raise this on their own deadline."""


class BureauReportInvalid(BureauError, ValueError):
    """A raw report does not have the documented shape."""


@dataclass(frozen=True)
class BureauContact:
    """Who an adverse action notice tells the applicant to contact."""

    name: str
    address: str
    phone: str
    website: str


@dataclass(frozen=True)
class BureauIdentity:
    """The subject of a pull. `tax_id` is digits only (SSN/ITIN, 9 digits)."""

    first_name: str
    last_name: str
    date_of_birth: date
    tax_id: str
    address_line: str
    postal_code: str

    def __post_init__(self):
        if not (self.tax_id.isdigit() and len(self.tax_id) == 9):
            raise ValueError("tax_id must be exactly 9 digits")
        if not isinstance(self.date_of_birth, date) or isinstance(self.date_of_birth, datetime):
            raise TypeError("date_of_birth must be a date")


ResponseStatus = Literal["ok", "unavailable"]


@dataclass(frozen=True)
class BureauResponse:
    """What a pull produced.

    `status == "ok"`: `raw` is the report exactly as received (store it).
    `status == "unavailable"`: the bureau could not be reached after
    `attempts` tries; `raw` is None and the caller must refer, never approve.
    """

    bureau: str
    status: ResponseStatus
    raw: dict[str, Any] | None
    attempts: int = 1
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def unavailable(self) -> bool:
        return self.status == "unavailable"

    def report(self) -> CreditReport:
        """Parse `raw`; refuses an unavailable response."""
        if self.raw is None:
            raise BureauUnavailable(self.error or "no report: the bureau was unavailable")
        return parse_report(self.raw)


@runtime_checkable
class BureauAdapter(Protocol):
    """One credit bureau. `pull` does the I/O and raises `BureauUnavailable`
    (or `BureauTimeout`) when the bureau cannot answer within its deadline."""

    name: str
    contact: BureauContact

    def pull(self, identity: BureauIdentity, *, pulled_at: datetime) -> BureauResponse: ...


# --------------------------------------------------------------------------- parsed report


@dataclass(frozen=True)
class KeyFactor:
    """A score reason code as the score model states it (FICO-style)."""

    code: str
    text: str


@dataclass(frozen=True)
class Tradeline:
    creditor: str
    account_type: str  # installment | revolving | mortgage
    balance: Decimal
    credit_limit: Decimal | None  # revolving only
    monthly_payment: Decimal
    opened: date
    status: str  # open | closed | paid | collection | chargeoff
    worst_delinquency: int  # days past due, worst ever: 0, 30, 60 or 90 (90 or more)
    payment_history: str  # 24 months, most recent first

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class Inquiry:
    date: date
    creditor: str


@dataclass(frozen=True)
class PublicRecord:
    record_type: str
    filed: date
    amount: Decimal


@dataclass(frozen=True)
class CreditReport:
    """A parsed consumer report. Money is Decimal; counts cover the last 24 months."""

    bureau: str
    report_id: str
    pulled_at: datetime
    hit: bool
    score: int | None
    score_model: str | None
    key_factors: tuple[KeyFactor, ...]
    tradelines: tuple[Tradeline, ...]
    inquiries: tuple[Inquiry, ...]
    delinquencies_30_24m: int
    delinquencies_60_24m: int
    delinquencies_90_24m: int
    public_records: tuple[PublicRecord, ...]
    total_monthly_obligations: Decimal
    oldest_trade_age_months: int | None

    @property
    def delinquencies_24m(self) -> int:
        """Late months of any severity in the last 24 months."""
        return self.delinquencies_30_24m + self.delinquencies_60_24m + self.delinquencies_90_24m

    @property
    def has_bankruptcy(self) -> bool:
        return any(r.record_type in BANKRUPTCY_TYPES for r in self.public_records)

    @property
    def thin_file(self) -> bool:
        """A file too small or too young to judge (includes a no-hit)."""
        return (
            not self.hit
            or self.score is None
            or len(self.tradelines) < THIN_FILE_MIN_TRADELINES
            or (self.oldest_trade_age_months or 0) < THIN_FILE_MIN_AGE_MONTHS
        )

    def inquiries_within(self, months: int) -> int:
        """Inquiries dated within `months` calendar months before the pull."""
        cutoff = add_months(self.pulled_at.date(), -months)
        return sum(1 for i in self.inquiries if i.date > cutoff)


def parse_report(raw: Mapping[str, Any]) -> CreditReport:
    """Turn a raw report (the documented shape) into a `CreditReport`.

    Derived figures: delinquency counts from the 24-month payment histories,
    total monthly obligations from the payments of open trade lines, and the
    oldest trade's age in whole months at the pull date.
    """
    try:
        pulled_at = datetime.fromisoformat(raw["pulled_at"])
        hit = bool(raw["hit"])
        score_block = raw.get("score")
        tradelines = tuple(_parse_tradeline(t) for t in raw.get("tradelines") or ())
        inquiries = tuple(
            Inquiry(date=date.fromisoformat(i["date"]), creditor=str(i["creditor"]))
            for i in raw.get("inquiries") or ()
        )
        public_records = tuple(
            PublicRecord(
                record_type=_one_of(p["type"], PUBLIC_RECORD_TYPES, "public record type"),
                filed=date.fromisoformat(p["filed"]),
                amount=_money(p["amount"]),
            )
            for p in raw.get("public_records") or ()
        )
        bureau = str(raw["bureau"])
        report_id = str(raw["report_id"])
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise BureauReportInvalid(f"malformed bureau report: {exc!r}") from exc

    if score_block:
        score = int(score_block["value"])
        score_model = str(score_block["model"])
        factors = tuple(
            KeyFactor(code=str(f["code"]), text=str(f["text"])) for f in score_block["factors"]
        )[:4]
    else:
        score, score_model, factors = None, None, ()

    late = {30: 0, 60: 0, 90: 0}
    for t in tradelines:
        for mark in t.payment_history:
            days = HISTORY_CODES[mark]
            if days:
                late[days] += 1
    pull_date = pulled_at.date()
    oldest = min((t.opened for t in tradelines), default=None)
    return CreditReport(
        bureau=bureau,
        report_id=report_id,
        pulled_at=pulled_at,
        hit=hit,
        score=score,
        score_model=score_model,
        key_factors=factors,
        tradelines=tradelines,
        inquiries=inquiries,
        delinquencies_30_24m=late[30],
        delinquencies_60_24m=late[60],
        delinquencies_90_24m=late[90],
        public_records=public_records,
        total_monthly_obligations=sum(
            (t.monthly_payment for t in tradelines if t.is_open), Decimal("0.00")
        ),
        oldest_trade_age_months=None if oldest is None else months_between(oldest, pull_date),
    )


def _parse_tradeline(t: Mapping[str, Any]) -> Tradeline:
    history = str(t["payment_history"])
    if len(history) != 24 or any(c not in HISTORY_CODES for c in history):
        raise ValueError(f"payment_history must be 24 of {''.join(HISTORY_CODES)}: {history!r}")
    worst = int(t["worst_delinquency"])
    if worst not in (0, 30, 60, 90):
        raise ValueError(f"worst_delinquency must be 0, 30, 60 or 90: {worst}")
    return Tradeline(
        creditor=str(t["creditor"]),
        account_type=_one_of(t["type"], TRADELINE_TYPES, "trade line type"),
        balance=_money(t["balance"]),
        credit_limit=None if t.get("credit_limit") is None else _money(t["credit_limit"]),
        monthly_payment=_money(t["monthly_payment"]),
        opened=date.fromisoformat(t["opened"]),
        status=_one_of(t["status"], TRADELINE_STATUSES, "trade line status"),
        worst_delinquency=worst,
        payment_history=history,
    )


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}")
    return value


def _money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money in a raw report must be a string, not a float")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def report_summary(report: CreditReport) -> dict[str, Any]:
    """The figures of a parsed report that pages, notices and the decision
    trace show, JSON-safe (money as strings). It names no account, creditor
    or identity detail: those stay in the encrypted raw report."""
    return {
        "report_id": report.report_id,
        "hit": report.hit,
        "score": report.score,
        "score_model": report.score_model,
        "key_factors": [{"code": f.code, "text": f.text} for f in report.key_factors],
        "delinquencies_30_24m": report.delinquencies_30_24m,
        "delinquencies_60_24m": report.delinquencies_60_24m,
        "delinquencies_90_24m": report.delinquencies_90_24m,
        "total_monthly_obligations": str(report.total_monthly_obligations),
        "oldest_trade_age_months": report.oldest_trade_age_months,
        "tradeline_count": len(report.tradelines),
        "open_tradeline_count": sum(1 for t in report.tradelines if t.is_open),
        "inquiries_6m": report.inquiries_within(6),
        "inquiry_count": len(report.inquiries),
        "public_record_count": len(report.public_records),
        "has_bankruptcy": report.has_bankruptcy,
    }


def bureau_variables(response: BureauResponse) -> dict[str, Any]:
    """The policy-rule variables a bureau response supplies.

    An unavailable bureau yields only `bureau_unavailable=True`: every
    bureau-based rule then sees a missing input and refers. A no-hit or thin
    file has `score=None` (missing, so it refers too).
    """
    if response.unavailable:
        return {"bureau_unavailable": True}
    report = response.report()
    return {
        "bureau_unavailable": False,
        "no_credit_file": not report.hit,
        "thin_file": report.thin_file,
        "score": report.score,
        "delinquencies_24m": report.delinquencies_24m,
        "delinquencies_90_24m": report.delinquencies_90_24m,
        "public_records": len(report.public_records),
        "has_bankruptcy": report.has_bankruptcy,
        "inquiries_6m": report.inquiries_within(6),
        "oldest_trade_months": report.oldest_trade_age_months,
        "bureau_monthly_obligations": report.total_monthly_obligations,
    }


# --------------------------------------------------------------------------- retry


def default_backoff(attempt: int) -> None:
    """Sleep 0.25 s, 0.5 s, 1 s ... after failed attempt number `attempt` (1-based)."""
    time.sleep(0.25 * 2 ** (attempt - 1))


DEFAULT_TIMEOUT_SECONDS = 10.0


def bureau_timeout_seconds() -> float | None:
    """The per-attempt deadline: settings.BUREAU_TIMEOUT_SECONDS (seconds,
    default DEFAULT_TIMEOUT_SECONDS). None (no deadline) when it is 0 or
    negative, or when Django settings are not configured (pure use)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        value = getattr(settings, "BUREAU_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    except ImproperlyConfigured:  # no settings module (a script using the pure parts)
        value = DEFAULT_TIMEOUT_SECONDS
    if value is None:
        return None
    value = float(value)
    return value if value > 0 else None


def _pull_within(
    adapter: BureauAdapter, identity: BureauIdentity, *, pulled_at: datetime, timeout: float | None
) -> BureauResponse:
    """One `adapter.pull`, cut off after `timeout` seconds (BureauTimeout).

    The pull runs in a worker thread so a bureau that answers slowly (rather
    than failing) cannot hold the caller; on an overrun the thread is
    abandoned (its late answer is discarded) and left to finish on its own.
    Adapters therefore must not use the database connection of the caller
    (they do network I/O only) and should set their own socket timeouts."""
    if timeout is None:
        return adapter.pull(identity, pulled_at=pulled_at)
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="bureau-pull"
    )
    try:
        future = executor.submit(adapter.pull, identity, pulled_at=pulled_at)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise BureauTimeout(
                f"{getattr(adapter, 'name', 'bureau')} did not answer within {timeout:g} s"
            ) from None
    finally:
        # Never wait for an overrunning pull: that is the point of the deadline.
        executor.shutdown(wait=False, cancel_futures=True)


def pull_with_retry(
    adapter: BureauAdapter,
    identity: BureauIdentity,
    *,
    pulled_at: datetime,
    attempts: int = 3,
    backoff: Callable[[int], None] | None = default_backoff,
    timeout: float | Literal["settings"] | None = "settings",
) -> BureauResponse:
    """Pull, retrying `BureauUnavailable` up to `attempts` tries in total.

    Each try gets `timeout` seconds (default: settings.BUREAU_TIMEOUT_SECONDS,
    see `bureau_timeout_seconds`; None means no deadline); a try that
    overruns counts as a `BureauTimeout`, so it is retried like any other
    unavailability. Between tries calls `backoff(attempt_number)` (pass a
    no-op in tests). When every try fails, returns a response with
    `status="unavailable"` rather than raising: the caller refers the
    application. Any other exception (a bug, a malformed identity)
    propagates at once.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if timeout == "settings":
        timeout = bureau_timeout_seconds()
    last_error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = _pull_within(adapter, identity, pulled_at=pulled_at, timeout=timeout)
        except BureauUnavailable as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            if attempt < attempts and backoff is not None:
                backoff(attempt)
            continue
        return BureauResponse(
            bureau=response.bureau,
            status=response.status,
            raw=response.raw,
            attempts=attempt,
            error=response.error,
        )
    return BureauResponse(
        bureau=adapter.name, status="unavailable", raw=None, attempts=attempts, error=last_error
    )


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    m += 1
    # Clamp the day to the end of the target month.
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)
