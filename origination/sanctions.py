"""OFAC SDN list: parsing the legacy CSV files and screening names against them.

Pure: no Django, no database, no clock. Callers pass file contents in and get
frozen values out.

The legacy CSV format (U.S. Treasury, "SDN data specification"): no header
row, fields quoted, the literal ``-0-`` (often ``"-0- "``) marks an empty
field, and the file may end with a DOS end-of-file byte (0x1A).

- ``SDN.CSV``: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
  Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks. SDN_Type is
  "individual", "vessel", "aircraft" or empty (an entity). Individuals are
  named "LAST, First Middle". Several programs come as "SDGT] [IRGC" (the
  brackets of "[SDGT] [IRGC]" with the outer pair stripped).
- ``ALT.CSV``: ent_num, alt_num, alt_type ("aka", "fka", "nka"), alt_name,
  alt_remarks.
- ``ADD.CSV``: ent_num, add_num, address, city/state/postal code, country,
  add_remarks.
- ``SDN_COMMENTS.CSV`` (optional): ent_num, remarks_extended - the overflow
  of long Remarks, appended to them.

Dates of birth live in Remarks: "DOB 12 Mar 1965; POB ...", "DOB Mar 1965",
"DOB 1965", "DOB circa 1960", "DOB 1958 to 1961", and an entry may list
several ("DOB 01 Jan 1960; alt. DOB 01 Jan 1961").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

EMPTY = "-0-"

KIND_INDIVIDUAL = "individual"
KIND_ENTITY = "entity"
KIND_VESSEL = "vessel"
KIND_AIRCRAFT = "aircraft"
KINDS = (KIND_INDIVIDUAL, KIND_ENTITY, KIND_VESSEL, KIND_AIRCRAFT)

DOB_MATCH = "match"
DOB_YEAR_MATCH = "year_match"
DOB_MISMATCH = "mismatch"
DOB_UNKNOWN = "unknown"

HINT_STRONG = "strong_match"
HINT_POTENTIAL = "potential_match"
HINT_FALSE_POSITIVE = "likely_false_positive"

DEFAULT_THRESHOLD = 85
# A name this close is reported even when the date of birth disagrees (as a
# likely false positive): a typo in either date must not hide a real hit.
DEFAULT_MISMATCH_BAR = 95
# "Sounds alike" scores count a little less than "spelt alike" ones, so an
# exact spelling always outranks a phonetic equivalent.
PHONETIC_WEIGHT = 0.95
# "circa 1960" is read as 1958..1962.
CIRCA_YEARS = 2

FILE_NAMES = ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")


class SdnFormatError(ValueError):
    """The files are not in the SDN legacy CSV format (message names file and line)."""


# --- values --------------------------------------------------------------------


@dataclass(frozen=True)
class Alias:
    alt_num: int
    alt_type: str  # "aka", "fka", "nka"
    name: str
    remarks: str = ""


@dataclass(frozen=True)
class Address:
    add_num: int
    address: str
    city: str  # "city/state/postal code" as published
    country: str
    remarks: str = ""


@dataclass(frozen=True)
class DateOfBirth:
    """One published date of birth. `day`/`month` are None when the list gives
    only a month or a year; `year_from`..`year_to` is the year range (equal for
    a single year, widened by CIRCA_YEARS for "circa")."""

    text: str
    year_from: int
    year_to: int
    month: int | None = None
    day: int | None = None
    circa: bool = False

    @property
    def exact(self) -> date | None:
        if self.day and self.month and self.year_from == self.year_to:
            try:
                return date(self.year_from, self.month, self.day)
            except ValueError:
                return None
        return None


@dataclass(frozen=True)
class SdnEntry:
    ent_num: int
    name: str
    kind: str
    programs: tuple[str, ...] = ()
    title: str = ""
    remarks: str = ""
    aliases: tuple[Alias, ...] = ()
    addresses: tuple[Address, ...] = ()
    dates_of_birth: tuple[DateOfBirth, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """One list entry that resembles the screened subject.

    `score` is 0-100 (see `screen`); `matched_name` is the published name or
    alias that scored best; `dob_result` one of DOB_*; `disposition` one of
    HINT_* - a hint for the reviewer, never a decision."""

    ent_num: int
    name: str
    matched_name: str
    matched_alias: bool
    score: float
    kind: str
    programs: tuple[str, ...]
    dob_result: str
    listed_dates_of_birth: tuple[str, ...]
    disposition: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["programs"] = list(self.programs)
        data["listed_dates_of_birth"] = list(self.listed_dates_of_birth)
        return data


# --- parsing -------------------------------------------------------------------


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        text = raw
    else:
        # Treasury has published both UTF-8 and Windows-1252 files over the years.
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    return text.replace("\x1a", "")


def _clean(value: str) -> str:
    value = value.strip()
    return "" if value == EMPTY else value


def _rows(raw: bytes | str, file_name: str, width: int) -> Iterable[tuple[int, list[str]]]:
    """(line number, cleaned fields) of each non-blank row; fewer than
    `width` fields is a format error, extra fields are ignored."""
    reader = csv.reader(io.StringIO(_decode(raw)))
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < width:
            raise SdnFormatError(
                f"{file_name} line {reader.line_num}: expected {width} fields, got {len(row)}"
            )
        yield reader.line_num, [_clean(cell) for cell in row[:width]]


def _int(value: str, file_name: str, line: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SdnFormatError(f"{file_name} line {line}: {what} {value!r} is not a number") from None


def split_programs(value: str) -> tuple[str, ...]:
    """ "SDGT] [IRGC" or "[SDGT] [IRGC]" -> ("SDGT", "IRGC")."""
    parts = re.split(r"\]\s*\[", value.strip().strip("[]"))
    return tuple(p.strip() for p in parts if p.strip())


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DOB_RE = re.compile(r"\bDOB\b\s*([^;]*)", re.IGNORECASE)
_DATE_RE = re.compile(
    r"^(?:(?P<day>\d{1,2})\s+)?(?:(?P<month>[A-Za-z]{3})[a-z]*\.?\s+)?(?P<year>\d{4})$"
)


def _one_date(text: str) -> tuple[int, int | None, int | None] | None:
    found = _DATE_RE.match(text.strip())
    if not found:
        return None
    month = found["month"]
    month_num = _MONTHS.get(month.lower()) if month else None
    if month and month_num is None:
        return None
    day = int(found["day"]) if found["day"] else None
    return int(found["year"]), month_num, day


def parse_date_of_birth(text: str) -> DateOfBirth | None:
    """One "DOB ..." value (without the "DOB" word) or None if unreadable."""
    text = text.strip().rstrip(".").strip()
    circa = False
    lowered = text.lower()
    if lowered.startswith("circa "):
        circa, text = True, text[6:].strip()
    if " to " in text:
        start, end = (_one_date(p) for p in text.split(" to ", 1))
        if start is None or end is None:
            return None
        return DateOfBirth(text=f"{text}", year_from=start[0], year_to=end[0])
    parsed = _one_date(text)
    if parsed is None:
        return None
    year, month, day = parsed
    if circa:
        return DateOfBirth(
            text=f"circa {text}",
            year_from=year - CIRCA_YEARS,
            year_to=year + CIRCA_YEARS,
            circa=True,
        )
    return DateOfBirth(text=text, year_from=year, year_to=year, month=month, day=day)


def dates_of_birth_from_remarks(remarks: str) -> tuple[DateOfBirth, ...]:
    """Every readable date of birth in an entry's Remarks, in order."""
    found = []
    for chunk in _DOB_RE.findall(remarks or ""):
        dob = parse_date_of_birth(chunk)
        if dob is not None and dob not in found:
            found.append(dob)
    return tuple(found)


def _by_name(files: Mapping[str, bytes | str]) -> dict[str, bytes | str]:
    named = {}
    for key, content in files.items():
        base = re.split(r"[\\/]", str(key))[-1].lower()
        if base in FILE_NAMES:
            named[base] = content
    if "sdn.csv" not in named:
        raise SdnFormatError("sdn.csv is missing (expected sdn.csv, alt.csv, add.csv)")
    return named


def parse_sdn(files: Mapping[str, bytes | str]) -> tuple[SdnEntry, ...]:
    """Entries of an SDN legacy CSV file set, keyed by file name (case and
    directory ignored): sdn.csv required; alt.csv, add.csv and
    sdn_comments.csv optional. Aliases and addresses of an ent_num missing
    from sdn.csv are ignored. Raises SdnFormatError on malformed rows or a
    repeated ent_num."""
    named = _by_name(files)
    aliases: dict[int, list[Alias]] = {}
    for line, row in _rows(named.get("alt.csv", b""), "alt.csv", 4):
        ent = _int(row[0], "alt.csv", line, "ent_num")
        alt_num = _int(row[1], "alt.csv", line, "alt_num") if row[1] else 0
        remarks = row[4] if len(row) > 4 else ""
        if row[3]:
            aliases.setdefault(ent, []).append(Alias(alt_num, row[2].lower(), row[3], remarks))
    addresses: dict[int, list[Address]] = {}
    for line, row in _rows(named.get("add.csv", b""), "add.csv", 5):
        ent = _int(row[0], "add.csv", line, "ent_num")
        add_num = _int(row[1], "add.csv", line, "add_num") if row[1] else 0
        remarks = row[5] if len(row) > 5 else ""
        if any(row[2:5]):
            addresses.setdefault(ent, []).append(Address(add_num, row[2], row[3], row[4], remarks))
    comments: dict[int, str] = {}
    for line, row in _rows(named.get("sdn_comments.csv", b""), "sdn_comments.csv", 2):
        ent = _int(row[0], "sdn_comments.csv", line, "ent_num")
        comments[ent] = (comments.get(ent, "") + row[1]).strip()

    entries: list[SdnEntry] = []
    seen: set[int] = set()
    for line, row in _rows(named["sdn.csv"], "sdn.csv", 12):
        ent = _int(row[0], "sdn.csv", line, "ent_num")
        if ent in seen:
            raise SdnFormatError(f"sdn.csv line {line}: ent_num {ent} is repeated")
        seen.add(ent)
        if not row[1]:
            raise SdnFormatError(f"sdn.csv line {line}: SDN_Name is empty")
        sdn_type = row[2].lower()
        kind = sdn_type if sdn_type in KINDS else KIND_ENTITY
        remarks = " ".join(part for part in (row[11], comments.get(ent, "")) if part)
        detail_names = ("call_sign", "vessel_type", "tonnage", "grt", "vessel_flag", "vessel_owner")
        details = {k: v for k, v in zip(detail_names, row[5:11], strict=True) if v}
        entries.append(
            SdnEntry(
                ent_num=ent,
                name=row[1],
                kind=kind,
                programs=split_programs(row[3]),
                title=row[4],
                remarks=remarks,
                aliases=tuple(aliases.get(ent, ())),
                addresses=tuple(addresses.get(ent, ())),
                dates_of_birth=(
                    dates_of_birth_from_remarks(remarks) if kind == KIND_INDIVIDUAL else ()
                ),
                details=details,
            )
        )
    return tuple(entries)


# --- normalisation -------------------------------------------------------------

# Legal-form words carry no identity: "ACME TRADING CO., LTD." is "acme trading".
_LEGAL_FORMS = frozenset(
    {
        "co",
        "corp",
        "corporation",
        "company",
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "plc",
        "sa",
        "gmbh",
        "ag",
        "bv",
        "nv",
        "srl",
    }
)


def normalise_name(name: str, *, individual: bool = False) -> str:
    """Lower-case ASCII words separated by single spaces.

    Accents are removed (NFKD, combining marks dropped), apostrophes join
    ("O'Brien" -> "obrien"), other punctuation separates, and legal-form
    words are dropped unless nothing else is left. For an individual the SDN
    order "LAST, First Middle" becomes "first middle last"."""
    if individual and "," in name:
        last, first = name.split(",", 1)
        name = f"{first} {last}"
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    ascii_only = re.sub(r"['\u2019`]", "", ascii_only)
    tokens = re.sub(r"[^0-9a-z]+", " ", ascii_only).split()
    kept = [t for t in tokens if t not in _LEGAL_FORMS]
    return " ".join(kept or tokens)


def sorted_tokens(normalised: str) -> str:
    return " ".join(sorted(normalised.split()))


_PHONETIC_RULES = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"(?<=.)h"), ""),  # a silent or aspirating h: Jon/John, Mohamed/Mohammed
    (re.compile(r"y"), "i"),
    (re.compile(r"[zq]"), lambda m: {"z": "s", "q": "k"}[m.group(0)]),
    (re.compile(r"w"), "v"),
    (re.compile(r"ou|oo"), "u"),
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters: Mohammed/Mohamed
)


def phonetic_key(normalised: str) -> str:
    """A spelling skeleton per word (Smyth and Smith -> "smit"), tokens sorted.

    Deliberately light: it folds common transliteration variants without the
    collisions of Soundex, which maps most short names to a handful of codes."""
    words = []
    for word in normalised.split():
        for pattern, repl in _PHONETIC_RULES:
            word = pattern.sub(repl, word)
        words.append(word)
    return " ".join(sorted(words))


# --- screening -----------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningIndex:
    """Precomputed choice lists for `screen`, one row per published name or
    alias: `spelt` (sorted normalised tokens), `sounds` (phonetic keys),
    `owner` (index into `entries`), `label` (the name as published)."""

    entries: tuple[SdnEntry, ...]
    spelt: tuple[str, ...]
    sounds: tuple[str, ...]
    owner: tuple[int, ...]
    label: tuple[str, ...]
    is_alias: tuple[bool, ...]
    # subject kind ("person", "business", None) -> (spelt, sounds, rows) of
    # the rows that kind is screened against, so a screening never scores
    # names it would throw away.
    partitions: Mapping[str | None, tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]] = (
        field(default_factory=dict)
    )


def build_index(entries: Sequence[SdnEntry]) -> ScreeningIndex:
    spelt, sounds, owner, label, is_alias = [], [], [], [], []
    for i, entry in enumerate(entries):
        individual = entry.kind == KIND_INDIVIDUAL
        names = [(entry.name, False)] + [(a.name, True) for a in entry.aliases]
        for name, alias in names:
            norm = normalise_name(name, individual=individual)
            # A listed middle name the subject does not give must not hide
            # a match either: individuals are also indexed as first + last.
            forms = _subject_variants(norm) if individual else [norm]
            for form in forms if norm else ():
                spelt.append(sorted_tokens(form))
                sounds.append(phonetic_key(form))
                owner.append(i)
                label.append(name)
                is_alias.append(alias)
    partitions = {}
    for subject_kind in ("person", "business", None):
        kinds = _kinds_for(subject_kind)
        rows = tuple(r for r, o in enumerate(owner) if kinds is None or entries[o].kind in kinds)
        partitions[subject_kind] = (
            tuple(spelt[r] for r in rows),
            tuple(sounds[r] for r in rows),
            rows,
        )
    return ScreeningIndex(
        tuple(entries),
        tuple(spelt),
        tuple(sounds),
        tuple(owner),
        tuple(label),
        tuple(is_alias),
        partitions,
    )


def compare_dob(subject: date | None, listed: Sequence[DateOfBirth]) -> str:
    """DOB_MATCH when a listed full date equals the subject's; DOB_YEAR_MATCH
    when a listed year, month-and-year, range or circa contains it; DOB_MISMATCH
    when the list gives dates and none fits; DOB_UNKNOWN when either side has none."""
    if subject is None or not listed:
        return DOB_UNKNOWN
    partial = False
    for dob in listed:
        if dob.exact is not None:
            if dob.exact == subject:
                return DOB_MATCH
        elif dob.year_from <= subject.year <= dob.year_to and (
            dob.month is None or dob.month == subject.month
        ):
            partial = True
    return DOB_YEAR_MATCH if partial else DOB_MISMATCH


def _subject_variants(normalised: str) -> list[str]:
    """The subject's name as given and, with three or more words, first and
    last only: a middle name the list does not carry must not hide a match."""
    words = normalised.split()
    variants = [normalised]
    if len(words) >= 3:
        variants.append(f"{words[0]} {words[-1]}")
    return variants


def _kinds_for(subject_kind: str | None) -> frozenset[str] | None:
    if subject_kind == "person":
        return frozenset({KIND_INDIVIDUAL})
    if subject_kind == "business":
        return frozenset({KIND_ENTITY, KIND_VESSEL, KIND_AIRCRAFT})
    return None


def screen(
    name: str,
    date_of_birth: date | None,
    entries: Sequence[SdnEntry] | ScreeningIndex,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    subject_kind: str | None = None,
    mismatch_bar: float = DEFAULT_MISMATCH_BAR,
) -> list[Match]:
    """Entries whose name or alias resembles `name`, best first.

    Scorer: rapidfuzz `fuzz.ratio` on word-sorted normalised names, which is
    exactly `token_sort_ratio` with the sorting done once per list instead of
    per comparison. Why token_sort: word order differs between sources
    ("SMITH, John" vs "John Smith") and sorting removes that, while missing
    or extra words still cost points. token_set_ratio and WRatio score 100
    whenever one name's words are a subset of the other's ("John Smith" vs
    "John Smith Trading Company"), which floods a compliance queue with
    false positives; WRatio is also several times slower. Spelling variants
    ("Jon Smyth" vs "SMITH, John", 84 on spelling alone) are caught by the
    same ratio over phonetic keys, weighted by PHONETIC_WEIGHT. A subject
    with a middle name is also scored on first and last name only. The
    score of an entry is its best over names, aliases and variants.

    `subject_kind` "person" screens against individuals only, "business"
    against entities, vessels and aircraft; None against all.

    Date of birth: a match at or above `threshold` is reported with its
    DOB comparison; a DOB_MISMATCH is reported only if the score reaches
    `mismatch_bar`, and then as HINT_FALSE_POSITIVE. HINT_STRONG needs a
    full DOB match and a score of at least `mismatch_bar`.

    Pass a prebuilt `ScreeningIndex` (build_index) when screening many
    names; a plain sequence of entries is indexed on every call.
    """
    index = entries if isinstance(entries, ScreeningIndex) else build_index(entries)
    normalised = normalise_name(name)
    if not normalised or not index.spelt:
        return []
    if subject_kind not in index.partitions:
        subject_kind = None
    spelt, sounds, rows = index.partitions[subject_kind]
    best: dict[int, tuple[float, int]] = {}  # entry index -> (score, row)

    def consider(choices: Sequence[str], query: str, weight: float) -> None:
        cutoff = threshold / weight
        if cutoff > 100:
            return
        found = process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
        for _, raw_score, position in found:
            row = rows[position]
            owner = index.owner[row]
            score = round(raw_score * weight, 1)
            if owner not in best or score > best[owner][0]:
                best[owner] = (score, row)

    for variant in _subject_variants(normalised):
        consider(spelt, sorted_tokens(variant), 1.0)
        consider(sounds, phonetic_key(variant), PHONETIC_WEIGHT)

    matches = []
    for owner, (score, row) in best.items():
        entry = index.entries[owner]
        dob_result = (
            compare_dob(date_of_birth, entry.dates_of_birth)
            if entry.kind == KIND_INDIVIDUAL
            else DOB_UNKNOWN
        )
        if dob_result == DOB_MISMATCH:
            if score < mismatch_bar:
                continue
            hint = HINT_FALSE_POSITIVE
        elif dob_result == DOB_MATCH and score >= mismatch_bar:
            hint = HINT_STRONG
        else:
            hint = HINT_POTENTIAL
        matches.append(
            Match(
                ent_num=entry.ent_num,
                name=entry.name,
                matched_name=index.label[row],
                matched_alias=index.is_alias[row],
                score=score,
                kind=entry.kind,
                programs=entry.programs,
                dob_result=dob_result,
                listed_dates_of_birth=tuple(d.text for d in entry.dates_of_birth),
                disposition=hint,
            )
        )
    matches.sort(key=lambda m: (-m.score, m.ent_num))
    return matches
