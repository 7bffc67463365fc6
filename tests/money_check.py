"""Finds amounts a person would read with more or fewer than two decimals.

Used by the page-walk test (HTML, PDF text, CSV) and the Chromium test (the
visible text). What counts as an amount:

- any number written with a decimal point (percentages, "12.99%", excepted):
  it must read 1,234.56, so `5,709.110000000000`, `818.510000000000`,
  `5709.11` and `75.5` are all caught (a comma alone is a count: "1,250 loans");
- a whole number next to a currency sign ("$75", "75 USD");
- in HTML, a whole number that is the whole content of a money cell: a
  `data-figure` element, a table cell under a money column heading, or a
  <dd> after a money label ("Fees 75");
- in PDF text, a line that starts with a money label and ends in a whole
  number ("Fees 75").

Dates ("Feb 15, 2026", "2026-02-15"), times, counts, days, terms, ids and
percentages are left alone: they carry no decimal point, no comma between
digits and no currency sign, and their labels are not money labels.
"""

import csv
import io
import re
from html.parser import HTMLParser

WELL_FORMED = re.compile(r"\d{1,3}(?:,\d{3})*\.\d{2}")
# A number: digits, commas only between digits, an optional decimal part. Not
# part of a word or of a dotted/slashed/dashed token (ids, dates, 30/360).
NUMBER = re.compile(r"(?<![\w.,/:\-])(\d+(?:,\d+)*(?:\.\d+)?)(?![\w/]|[.,]\d|-\d)")
CURRENCY_BEFORE = re.compile(r"(?:\$|\b(?:USD|CAD|EUR|GBP)\s?)-?$")
CURRENCY_AFTER = re.compile(r"^\s?(?:USD|CAD|EUR|GBP)\b")
PERCENT_AFTER = re.compile(r"^\s?%")

# Labels (column headings, <dt>, PDF row labels) of money. A label naming a
# count, a rate, a date or a span of days is not money even if it also says
# "interest" or "due" ("Interest rate", "Days past due", "Due date").
MONEY_LABEL = re.compile(
    r"\b(amount|principal|interest|fees?|penalt(y|ies)|payments?|balance|paid|due|"
    r"outstanding|owed|debit|credit|total|charge|financed|disbursed|per diem|"
    r"instalment|installment|income|housing|obligations|limit|payoff|refund|recovery|"
    r"unapplied|overpayment|advanced|requested|approved|price)\b",
    re.I,
)
NOT_MONEY_LABEL = re.compile(
    r"\b(rate|apr|%|days?|dpd|term|months?|date|count|number|no\.|#|score|"
    r"ratio|dti|pti|method|status|reference|kind|type|day count|version)\b",
    re.I,
)


def is_money_label(label: str) -> bool:
    label = " ".join(label.split())
    return bool(label) and bool(MONEY_LABEL.search(label)) and not NOT_MONEY_LABEL.search(label)


def bad_numbers(text: str) -> list[str]:
    """Numbers in free text that are amounts but not written d,ddd.dd."""
    found = []
    for match in NUMBER.finditer(text):
        token = match.group(1)
        before, after = text[: match.start()], text[match.end() :]
        if PERCENT_AFTER.match(after):
            continue
        decimal_like = "." in token  # "1,250 loans" is a count; "1,250" by "$" is not
        by_currency = bool(CURRENCY_BEFORE.search(before[-5:]) or CURRENCY_AFTER.match(after))
        if (decimal_like or by_currency) and not WELL_FORMED.fullmatch(token):
            found.append(_context(text, match))
    return found


def bad_money_value(value: str) -> bool:
    """The whole content of a money cell: '' and '—' pass, an amount must be well formed."""
    value = " ".join(value.split())
    if value in ("", "\u2014", "-", "\u2013"):  # blank, em or en dash
        return False
    value = value.lstrip("-\u2212").lstrip("$").strip()
    number = re.match(r"^(\d[\d,]*(?:\.\d+)?)(?:\s?(?:USD|CAD|EUR|GBP))?$", value)
    return bool(number) and not WELL_FORMED.fullmatch(number.group(1))


def _context(text: str, match: re.Match) -> str:
    return " ".join(text[max(0, match.start() - 40) : match.end() + 20].split())


class _Walker(HTMLParser):
    """Collects the visible text and the money cells of a page."""

    SKIP = {"script", "style", "template", "noscript"}
    VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "source", "col", "area"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []  # open elements
        self.texts: list[str] = []
        self.cells: list[tuple[str, str]] = []  # (label, content) of money cells
        self.tables: list[dict] = []
        self.last_dt = ""
        self.skipping = 0

    # elements -------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            if tag == "br":
                self._text(" ")
            return
        attrs = dict(attrs)
        node = {"tag": tag, "attrs": attrs, "text": [], "label": None}
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "table":
            self.tables.append({"headings": [], "in_head": False, "col": 0, "row_has_td": False})
        elif tag == "thead" and self.tables:
            self.tables[-1]["in_head"] = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["col"] = 0
        elif tag in ("td", "th") and self.tables:
            table = self.tables[-1]
            col = table["col"]
            table["col"] += int(attrs.get("colspan") or 1)
            if tag == "td" and table["headings"] and not table["in_head"]:
                node["label"] = table["headings"][col] if col < len(table["headings"]) else ""
            node["head"] = table["in_head"]
        elif tag == "dd":
            node["label"] = self.last_dt
        if "data-figure" in attrs:
            node["label"] = node["label"] or attrs["data-figure"].replace("-", " ")
            node["figure"] = attrs["data-figure"]
        self.stack.append(node)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        # close up to the matching element (tolerates unclosed <p>, <li>)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                break
        else:
            return
        while len(self.stack) > i:
            node = self.stack.pop()
            self._close(node)
        self._text(" ")

    def _close(self, node):
        tag = node["tag"]
        content = "".join(node["text"])
        if self.stack:
            self.stack[-1]["text"].append(content)
        if tag in self.SKIP:
            self.skipping -= 1
            return
        if tag == "table" and self.tables:
            self.tables.pop()
        elif tag == "thead" and self.tables:
            self.tables[-1]["in_head"] = False
        elif tag == "th" and self.tables and node.get("head"):
            self.tables[-1]["headings"].append(" ".join(content.split()))
            # a colspan heading covers its columns
            span = int(node["attrs"].get("colspan") or 1)
            self.tables[-1]["headings"].extend([""] * (span - 1))
        elif tag == "dt":
            self.last_dt = " ".join(content.split())
        label = node.get("label")
        if label is not None and (node.get("figure") or is_money_label(label)):
            if node.get("figure") and not is_money_label(label):
                return
            self.cells.append((label, content))

    def handle_data(self, data):
        if not self.skipping:
            self._text(data)

    def _text(self, data):
        self.texts.append(data)
        if self.stack:
            self.stack[-1]["text"].append(data)


def html_problems(html: str) -> list[str]:
    """Every badly written amount on an HTML page, with some context."""
    walker = _Walker()
    walker.feed(html)
    walker.close()
    text = " ".join("".join(walker.texts).split())
    problems = bad_numbers(text)
    for label, content in walker.cells:
        if bad_money_value(content):
            problems.append(f"{label}: {' '.join(content.split())}")
    return problems


def visible_text(html: str) -> str:
    walker = _Walker()
    walker.feed(html)
    walker.close()
    return " ".join("".join(walker.texts).split())


def text_problems(text: str) -> list[str]:
    """Every badly written amount in extracted text (a PDF, a browser's innerText)."""
    problems = bad_numbers(text)
    for line in text.splitlines():
        line = " ".join(line.split())
        last = re.search(r"(?:^|\s)(-?\$?\d+)$", line)
        head = line[: last.start()] if last else ""
        # only a label before it: "Fees 75", not "346.39 due Mar 15, 2026"
        if last and not re.search(r"\d", head) and is_money_label(head):
            problems.append(line)
    return problems


def csv_problems(text: str, money_columns: set[str]) -> list[str]:
    """Cells of the named money columns of a CSV that are not d,ddd.dd."""
    problems = []
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        for name, value in zip(header, row, strict=False):
            if name in money_columns and value and not WELL_FORMED.fullmatch(value.lstrip("-")):
                problems.append(f"line {number} {name}: {value}")
    return problems
