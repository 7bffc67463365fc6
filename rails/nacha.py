"""NACHA (ACH) files: building PPD debit and credit files and reading return files.

Shared by servicing (autopay debits, returns) and origination (disbursement
credits, through `rails.disbursement`).

Pure: no Django, no I/O, no clock. Every record is 94 ASCII characters;
files are blocked in tens (blocking factor 10) with all-9 filler records.
Amounts are integer cents in and Decimal dollars out of `parse_returns`.

Record layouts used (positions are 1-based, inclusive, as in the NACHA
Operating Rules, Appendix Three):

1 File header     1 type "1" | 2-3 priority "01" | 4-13 immediate destination
                  (" " + routing) | 14-23 immediate origin | 24-29 YYMMDD |
                  30-33 HHMM | 34 file id modifier | 35-37 "094" | 38-39 "10" |
                  40 "1" | 41-63 destination name | 64-86 origin name |
                  87-94 reference code
5 Batch header    1 "5" | 2-4 service class | 5-20 company name | 21-40
                  discretionary | 41-50 company id | 51-53 SEC | 54-63 entry
                  description | 64-69 descriptive date | 70-75 effective date |
                  76-78 settlement (blank, the ACH operator fills it) |
                  79 originator status "1" | 80-87 ODFI | 88-94 batch number
6 Entry detail    1 "6" | 2-3 transaction code | 4-11 RDFI | 12 check digit |
                  13-29 account | 30-39 amount | 40-54 individual id |
                  55-76 individual name | 77-78 discretionary | 79 addenda
                  indicator | 80-94 trace number (ODFI + 7-digit sequence)
7 Addenda (99)    1 "7" | 2-3 "99" | 4-6 return reason | 7-21 original trace |
                  22-27 date of death | 28-35 original RDFI | 36-79 info |
                  80-94 trace number
8 Batch control   1 "8" | 2-4 service class | 5-10 entry/addenda count |
                  11-20 entry hash | 21-32 total debits | 33-44 total credits |
                  45-54 company id | 55-73 MAC | 74-79 reserved | 80-87 ODFI |
                  88-94 batch number
9 File control    1 "9" | 2-7 batch count | 8-13 block count | 14-21
                  entry/addenda count | 22-31 entry hash | 32-43 total debits |
                  44-55 total credits | 56-94 reserved

The entry hash is the sum of the 8-digit RDFI routing prefixes, keeping
the rightmost ten digits.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from stdnum.us import rtn

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
FILLER = "9" * RECORD_LENGTH
SERVICE_CLASS_DEBITS = "225"
SERVICE_CLASS_CREDITS = "220"
TRANSACTION_CODES = {"checking": "27", "savings": "37"}
CREDIT_TRANSACTION_CODES = {"checking": "22", "savings": "32"}
# Return entries carry the "return of a debit" codes.
RETURN_TRANSACTION_CODES = {"26": "checking", "36": "savings", "27": "checking", "37": "savings"}
MAX_AMOUNT_CENTS = 99_999_999_99  # ten digits in the entry's amount field


class NachaError(ValueError):
    """The input cannot make, or is not, a valid NACHA file."""


@dataclass(frozen=True)
class Origin:
    """Who sends the file. Routing numbers are 9 digits; `company_id` is the
    originator's 10-character identification (often "1" + EIN)."""

    destination_routing: str
    destination_name: str
    odfi_routing: str
    origin_name: str
    company_name: str
    company_id: str
    entry_description: str = "LOAN PMT"
    immediate_origin: str = ""  # defaults to " " + odfi_routing
    reference_code: str = ""


@dataclass(frozen=True)
class DebitEntry:
    """One debit of a borrower's account. `amount_cents` > 0; `trace_seq` is
    the 7-digit sequence that, after the ODFI prefix, makes the trace number."""

    individual_id: str
    individual_name: str
    routing: str
    account: str
    account_type: str  # "checking" or "savings"
    amount_cents: int
    trace_seq: int


@dataclass(frozen=True)
class CreditEntry:
    """One credit to a borrower's account (a disbursement). Same fields and
    rules as DebitEntry; written with transaction code 22 (checking) or 32
    (savings) in a service class 220 batch."""

    individual_id: str
    individual_name: str
    routing: str
    account: str
    account_type: str  # "checking" or "savings"
    amount_cents: int
    trace_seq: int


@dataclass(frozen=True)
class ReturnEntry:
    """One returned entry: the trace number of the entry we originated, the
    return reason code (R01 ...), and the amount in dollars."""

    trace_number: str
    return_code: str
    amount: Decimal
    account_type: str
    individual_id: str
    line_number: int


def is_valid_routing(routing: str) -> bool:
    """A 9-digit ABA routing transit number with a correct check digit."""
    return isinstance(routing, str) and len(routing) == 9 and rtn.is_valid(routing)


def trace_number(odfi_routing: str, seq: int) -> str:
    """The 15-digit trace number: ODFI's 8-digit prefix + 7-digit sequence."""
    if not 0 < seq <= 9_999_999:
        raise NachaError(f"Trace sequence {seq} is not 1..9999999.")
    return f"{odfi_routing[:8]}{seq:07d}"


def _text(value: str, width: int) -> str:
    """Alphanumeric field: upper-case ASCII, left-justified, space-filled."""
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^\x20-\x7e]", " ", ascii_text).upper()
    return cleaned[:width].ljust(width)


def _num(value: int, width: int) -> str:
    """Numeric field: right-justified, zero-filled; refuses overflow."""
    if value < 0 or len(str(value)) > width:
        raise NachaError(f"{value} does not fit a {width}-digit field.")
    return str(value).rjust(width, "0")


def _check_record(record: str) -> str:
    assert len(record) == RECORD_LENGTH, (len(record), record)
    return record


def _validate(
    origin: Origin, entries: list[DebitEntry] | list[CreditEntry], file_id_modifier: str
) -> None:
    for name in ("destination_routing", "odfi_routing"):
        if not is_valid_routing(getattr(origin, name)):
            raise NachaError(
                f"Origin {name} {getattr(origin, name)!r} is not a valid routing number."
            )
    if not re.fullmatch(r"[A-Z0-9]", file_id_modifier):
        raise NachaError("The file id modifier is one character A-Z or 0-9.")
    if not entries:
        raise NachaError("A file needs at least one entry.")
    seen = set()
    for i, e in enumerate(entries, 1):
        if not is_valid_routing(e.routing):
            raise NachaError(f"Entry {i}: {e.routing!r} is not a valid routing number.")
        if e.account_type not in TRANSACTION_CODES:
            raise NachaError(f"Entry {i}: account type must be checking or savings.")
        if not re.fullmatch(r"[0-9A-Za-z-]{1,17}", e.account):
            raise NachaError(f"Entry {i}: account number must be 1-17 letters, digits or hyphens.")
        if not 0 < e.amount_cents <= MAX_AMOUNT_CENTS:
            raise NachaError(f"Entry {i}: amount must be 1..{MAX_AMOUNT_CENTS} cents.")
        if e.trace_seq in seen:
            raise NachaError(f"Entry {i}: trace sequence {e.trace_seq} is repeated.")
        seen.add(e.trace_seq)


def entry_hash(routings: list[str]) -> int:
    """Sum of the 8-digit RDFI prefixes, rightmost ten digits."""
    return sum(int(r[:8]) for r in routings) % 10**10


def build_ppd_debit_file(
    *,
    origin: Origin,
    entries: list[DebitEntry],
    created_at: datetime,
    effective_date: date,
    file_id_modifier: str = "A",
    batch_number: int = 1,
) -> str:
    """One PPD batch of debits (service class 225) as a blocked NACHA file.

    Returns the file's text, records joined by "\\n" with a trailing
    newline. Raises NachaError for an invalid routing number, account,
    amount, duplicate trace sequence or an empty entry list."""
    return _build_ppd_file(
        origin=origin,
        entries=entries,
        created_at=created_at,
        effective_date=effective_date,
        file_id_modifier=file_id_modifier,
        batch_number=batch_number,
        credits=False,
    )


def build_ppd_credit_file(
    *,
    origin: Origin,
    entries: list[CreditEntry],
    created_at: datetime,
    effective_date: date,
    file_id_modifier: str = "A",
    batch_number: int = 1,
) -> str:
    """One PPD batch of credits (service class 220, codes 22/32) as a blocked
    NACHA file: the totals go in the credit columns of the batch and file
    control records, the debit columns are zero. Same output format and
    errors as `build_ppd_debit_file`."""
    return _build_ppd_file(
        origin=origin,
        entries=entries,
        created_at=created_at,
        effective_date=effective_date,
        file_id_modifier=file_id_modifier,
        batch_number=batch_number,
        credits=True,
    )


def _build_ppd_file(
    *,
    origin: Origin,
    entries: list[DebitEntry] | list[CreditEntry],
    created_at: datetime,
    effective_date: date,
    file_id_modifier: str,
    batch_number: int,
    credits: bool,
) -> str:
    _validate(origin, entries, file_id_modifier)
    service_class = SERVICE_CLASS_CREDITS if credits else SERVICE_CLASS_DEBITS
    codes = CREDIT_TRANSACTION_CODES if credits else TRANSACTION_CODES
    odfi8 = origin.odfi_routing[:8]
    immediate_origin = origin.immediate_origin or f" {origin.odfi_routing}"
    records = [
        "1"
        + "01"
        + f" {origin.destination_routing}"
        + _text(immediate_origin, 10)
        + created_at.strftime("%y%m%d")
        + created_at.strftime("%H%M")
        + file_id_modifier
        + "094"
        + f"{BLOCKING_FACTOR:02d}"
        + "1"
        + _text(origin.destination_name, 23)
        + _text(origin.origin_name, 23)
        + _text(origin.reference_code, 8),
        "5"
        + service_class
        + _text(origin.company_name, 16)
        + _text("", 20)
        + _text(origin.company_id, 10)
        + "PPD"
        + _text(origin.entry_description, 10)
        + effective_date.strftime("%y%m%d")  # descriptive date
        + effective_date.strftime("%y%m%d")
        + "   "
        + "1"
        + odfi8
        + _num(batch_number, 7),
    ]
    for e in entries:
        records.append(
            "6"
            + codes[e.account_type]
            + e.routing[:8]
            + e.routing[8]
            + _text(e.account, 17)
            + _num(e.amount_cents, 10)
            + _text(e.individual_id, 15)
            + _text(e.individual_name, 22)
            + "  "
            + "0"
            + trace_number(origin.odfi_routing, e.trace_seq)
        )
    count = len(entries)
    hash_ = entry_hash([e.routing for e in entries])
    total = sum(e.amount_cents for e in entries)
    debits, credits_total = (0, total) if credits else (total, 0)
    records.append(
        "8"
        + service_class
        + _num(count, 6)
        + _num(hash_, 10)
        + _num(debits, 12)
        + _num(credits_total, 12)
        + _text(origin.company_id, 10)
        + " " * 19
        + " " * 6
        + odfi8
        + _num(batch_number, 7)
    )
    lines_with_control = len(records) + 1
    blocks = -(-lines_with_control // BLOCKING_FACTOR)
    records.append(
        "9"
        + _num(1, 6)
        + _num(blocks, 6)
        + _num(count, 8)
        + _num(hash_, 10)
        + _num(debits, 12)
        + _num(credits_total, 12)
        + " " * 39
    )
    records += [FILLER] * (blocks * BLOCKING_FACTOR - len(records))
    return "\n".join(_check_record(r) for r in records) + "\n"


def parse_returns(text: str) -> list[ReturnEntry]:
    """The returned entries of an ACH return file.

    Each return is an entry detail record (6) followed by its addenda (7,
    type 99) carrying the return reason code and the original trace number.
    Header, control and filler records are skipped. Raises NachaError, with
    the line number, for a record that is not 94 characters, an entry
    without its addenda, or an addenda that is not a return addenda."""
    out: list[ReturnEntry] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if len(line) != RECORD_LENGTH:
            raise NachaError(f"Line {number}: a record is 94 characters, this one is {len(line)}.")
        kind = line[0]
        if kind == "6":
            if pending is not None:
                raise NachaError(f"Line {pending[0]}: the entry has no return addenda.")
            pending = (number, line)
        elif kind == "7":
            if pending is None:
                raise NachaError(f"Line {number}: an addenda without its entry.")
            if line[1:3] != "99":
                raise NachaError(f"Line {number}: addenda type {line[1:3]} is not a return (99).")
            entry_line, entry = pending
            code = line[3:6]
            if not re.fullmatch(r"R[0-9A-Z]{2}", code):
                raise NachaError(f"Line {number}: {code!r} is not a return reason code.")
            original_trace = line[6:21]
            if not original_trace.isdigit():
                raise NachaError(f"Line {number}: the original trace number is not 15 digits.")
            amount_field = entry[29:39]
            if not amount_field.isdigit():
                raise NachaError(f"Line {entry_line}: the amount is not numeric.")
            out.append(
                ReturnEntry(
                    trace_number=original_trace,
                    return_code=code,
                    amount=Decimal(int(amount_field)) / 100,
                    account_type=RETURN_TRANSACTION_CODES.get(entry[1:3], ""),
                    individual_id=entry[39:54].strip(),
                    line_number=entry_line,
                )
            )
            pending = None
        elif kind in "1589":
            if pending is not None:
                raise NachaError(f"Line {pending[0]}: the entry has no return addenda.")
        else:
            raise NachaError(f"Line {number}: unknown record type {kind!r}.")
    if pending is not None:
        raise NachaError(f"Line {pending[0]}: the entry has no return addenda.")
    return out


def build_return_file(
    *,
    origin: Origin,
    returns: list[tuple[str, str, int, str, str]],
    created_at: datetime,
    rdfi_routing: str,
) -> str:
    """A return file as an RDFI would send it back, for tests and drills:
    `returns` are (original trace, reason code, amount cents, account type,
    individual id). Entries use the return-of-debit codes 26/36."""
    odfi8 = origin.odfi_routing[:8]
    records = [
        "1"
        + "01"
        + f" {origin.odfi_routing}"
        + f" {rdfi_routing}"
        + created_at.strftime("%y%m%d%H%M")
        + "A09410"
        + "1"
        + _text(origin.origin_name, 23)
        + _text("RETURNS", 23)
        + _text("", 8),
        "5"
        + SERVICE_CLASS_DEBITS
        + _text(origin.company_name, 16)
        + _text("", 20)
        + _text(origin.company_id, 10)
        + "PPD"
        + _text(origin.entry_description, 10)
        + created_at.strftime("%y%m%d") * 2
        + "   1"
        + rdfi_routing[:8]
        + _num(1, 7),
    ]
    for seq, (trace, code, cents, account_type, individual_id) in enumerate(returns, 1):
        records.append(
            "6"
            + {"checking": "26", "savings": "36"}[account_type]
            + odfi8
            + origin.odfi_routing[8]
            + _text("", 17)
            + _num(cents, 10)
            + _text(individual_id, 15)
            + _text("", 22)
            + "  1"
            + f"{rdfi_routing[:8]}{seq:07d}"
        )
        records.append(
            "7"
            + "99"
            + code
            + trace
            + " " * 6
            + trace[:8]
            + " " * 44
            + f"{rdfi_routing[:8]}{seq:07d}"
        )
    count = len(records) - 2
    total = sum(r[2] for r in returns)
    hash_ = entry_hash([origin.odfi_routing] * len(returns))
    records.append(
        "8"
        + SERVICE_CLASS_DEBITS
        + _num(count, 6)
        + _num(hash_, 10)
        + _num(total, 12)
        + _num(0, 12)
        + _text(origin.company_id, 10)
        + " " * 25
        + rdfi_routing[:8]
        + _num(1, 7)
    )
    blocks = -(-(len(records) + 1) // BLOCKING_FACTOR)
    records.append(
        "9"
        + _num(1, 6)
        + _num(blocks, 6)
        + _num(count, 8)
        + _num(hash_, 10)
        + _num(total, 12)
        + _num(0, 12)
        + " " * 39
    )
    records += [FILLER] * (blocks * BLOCKING_FACTOR - len(records))
    return "\n".join(_check_record(r) for r in records) + "\n"
