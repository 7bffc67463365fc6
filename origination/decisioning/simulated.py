"""The simulated credit bureau: deterministic, realistic reports per identity.

`SimulatedBureau` gives deterministic, realistic reports for development,
demos and tests. Each identity seeds its own random generator from
SHA-256(tax id | date of birth), so the same person always gets the same file
(for the same `pulled_at`). Over many identities: scores 500-830 centred near
690, about 4% thin files (one young trade line, no score), delinquencies and
inquiries more common at lower scores, and a few bankruptcies.

Magic test identities, chosen by the last four digits of the tax id:

========  ==================================================================
``0000``  the bureau times out: `pull` raises `BureauTimeout` every time
``0001``  no hit: no file found for the subject (no score, no trade lines)
``0002``  thin file: one trade line opened 3 months ago, no score
``0003``  bankruptcy: chapter 7 public record filed 2 years ago, score 548
``0004``  recent delinquencies: one 30-day and one 60-day late in the last
          6 months, 2 inquiries in the last 6 months, score 612
``9999``  clean file: score 820, no delinquencies, no public records,
          no inquiries in the last 6 months, oldest trade 15 years
========  ==================================================================
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from origination.decisioning.bureau import (
    HISTORY_CODES,
    BureauContact,
    BureauIdentity,
    BureauResponse,
    BureauTimeout,
    add_months,
    months_between,
)

SIMULATED_BUREAU_NAME = "SIMULATED"
SIMULATED_SCORE_MODEL = "FICO Score 8 (simulated)"
SIMULATED_BUREAU_CONTACT = BureauContact(
    name="Simulated Consumer Reporting Agency (development and demonstration only)",
    address="P.O. Box 740000, Springfield, IL 62701",
    phone="1-800-555-0199",
    website="https://bureau.example.com",
)

# FICO-style score reason codes (the published generic list).
FACTOR_TEXTS = {
    "01": "Amount owed on accounts is too high",
    "02": "Level of delinquency on accounts",
    "05": "Too many accounts with balances",
    "08": "Too many inquiries last 12 months",
    "09": "Too many accounts recently opened",
    "10": "Proportion of balances to credit limits on revolving accounts is too high",
    "13": "Time since delinquency is too recent or unknown",
    "14": "Length of time accounts have been established",
    "18": "Number of accounts with delinquency",
    "19": "Too few accounts currently paid as agreed",
    "38": "Serious delinquency, and public record or collection filed",
    "40": "Derogatory public record or collection filed",
}

_CARD_ISSUERS = (
    "Summit Bank Card",
    "Lakeside Credit Union Visa",
    "Northstar Retail Card",
    "Harbor National Mastercard",
    "Pinecrest Store Card",
    "Meridian Rewards Card",
)
_AUTO_LENDERS = ("Riverbend Auto Finance", "Keystone Motor Credit", "Bluewater Auto Loans")
_PERSONAL_LENDERS = ("Cedar Personal Loans", "Evergreen Student Lending", "Oakridge Finance")
_MORTGAGE_LENDERS = ("Granite Home Mortgage", "Prairie Mortgage Servicing")
_INQUIRERS = (
    "Summit Bank",
    "Riverbend Auto Finance",
    "Cedar Personal Loans",
    "Harbor National",
    "Metro Wireless",
    "Oakridge Finance",
    "Pinecrest Stores",
)


def _money_str(value: int | Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


class SimulatedBureau:
    """A deterministic in-process bureau (see the module docstring)."""

    name = SIMULATED_BUREAU_NAME
    contact = SIMULATED_BUREAU_CONTACT

    def pull(self, identity: BureauIdentity, *, pulled_at: datetime) -> BureauResponse:
        magic = identity.tax_id[-4:]
        if magic == "0000":
            raise BureauTimeout("simulated bureau timed out")
        seed_bytes = hashlib.sha256(
            f"{identity.tax_id}|{identity.date_of_birth.isoformat()}".encode()
        ).digest()
        rng = random.Random(int.from_bytes(seed_bytes[:8], "big"))
        report_id = (
            "SIM-"
            + hashlib.sha256(seed_bytes + pulled_at.isoformat().encode()).hexdigest()[:16].upper()
        )
        raw: dict[str, Any] = {
            "bureau": self.name,
            "report_id": report_id,
            "pulled_at": pulled_at.isoformat(),
            "subject": {
                "first_name": identity.first_name,
                "last_name": identity.last_name,
                "date_of_birth": identity.date_of_birth.isoformat(),
                "tax_id_last4": identity.tax_id[-4:],
                "address_line": identity.address_line,
                "postal_code": identity.postal_code,
            },
            "hit": True,
            "score": None,
            "tradelines": [],
            "inquiries": [],
            "public_records": [],
        }
        _Generator(rng, raw, identity, pulled_at.date(), magic).fill()
        return BureauResponse(bureau=self.name, status="ok", raw=raw)


@dataclass
class _Generator:
    """Builds one simulated file into `raw` (mutates it)."""

    rng: random.Random
    raw: dict[str, Any]
    identity: BureauIdentity
    today: date
    magic: str
    factors: list[tuple[int, str]] = field(default_factory=list)

    def fill(self) -> None:
        rng = self.rng
        max_age = max(months_between(self.identity.date_of_birth, self.today) - 18 * 12, 3)
        if self.magic == "0001":
            self.raw["hit"] = False
            return
        if self.magic == "0002" or (
            self.magic not in ("0003", "0004", "9999") and rng.random() < 0.04
        ):
            self._thin_file()
            return
        if self.magic == "9999":
            score, lates, bankrupt, inquiries, oldest = 820, [], False, 0, min(180, max_age)
        elif self.magic == "0003":
            score, lates, bankrupt, inquiries, oldest = 548, [], True, 2, min(96, max_age)
        elif self.magic == "0004":
            score, lates, bankrupt = 612, [(2, "1"), (5, "2")], False
            inquiries, oldest = 3, min(60, max_age)
        else:
            score = max(500, min(830, round(rng.gauss(690, 62))))
            weakness = (830 - score) / 330  # 0 best .. 1 worst
            bankrupt = score < 600 and rng.random() < 0.2
            lates = []
            if rng.random() < weakness * 0.6:
                for _ in range(rng.randint(1, 1 + round(weakness * 5))):
                    severity = rng.choices("123", weights=(6, 3 * weakness, 2 * weakness))[0]
                    lates.append((rng.randint(0, 23), severity))
            inquiries = rng.choices(
                range(9),
                weights=[
                    max(0.2, 4 - 6 * weakness) / (k + 1) + weakness * (k > 2) for k in range(9)
                ],
            )[0]
            oldest = rng.randint(min(24, max_age), max(min(24, max_age), min(360, max_age)))
            # Old files score better: nudge the youngest files down.
            if oldest < 36:
                score = max(500, score - 25)
        self._file(score, lates, bankrupt, inquiries, oldest)

    def _thin_file(self) -> None:
        opened = add_months(self.today, -3)
        history = "CCC" + "-" * 21
        self.raw["tradelines"] = [
            self._line("revolving", self.rng.choice(_CARD_ISSUERS), 300, 500, 25, opened, history)
        ]
        self.raw["inquiries"] = [
            {
                "date": add_months(self.today, -4).isoformat(),
                "creditor": self.rng.choice(_INQUIRERS),
            }
        ]

    def _line(self, kind, creditor, balance, limit, payment, opened, history, status="open"):
        worst = max((HISTORY_CODES[c] for c in history), default=0)
        return {
            "creditor": creditor,
            "type": kind,
            "balance": _money_str(balance),
            "credit_limit": None if limit is None else _money_str(limit),
            "monthly_payment": _money_str(payment),
            "opened": opened.isoformat(),
            "status": status,
            "worst_delinquency": worst,
            "payment_history": history,
        }

    def _file(self, score, lates, bankrupt, inquiries, oldest) -> None:
        rng = self.rng
        today = self.today
        weakness = (830 - score) / 330
        count = rng.randint(3, 9) if self.magic != "9999" else 6
        ages = sorted(
            [oldest] + [rng.randint(1, max(1, oldest)) for _ in range(count - 1)], reverse=True
        )
        lines = []
        utilisations = []
        for i, age in enumerate(ages):
            opened = add_months(today, -age)
            history = "".join("C" if m < age else "-" for m in range(24))
            roll = rng.random()
            if (i == 0 and oldest >= 120 and rng.random() < 0.5) or roll < 0.12:
                kind = "mortgage"
            elif roll < 0.45:
                kind = "installment"
            else:
                kind = "revolving"
            closed = age > 24 and rng.random() < 0.2 and i != 0
            if kind == "revolving":
                limit = rng.choice((500, 1000, 2500, 5000, 7500, 10000, 15000, 25000))
                util = (
                    0.05
                    if self.magic == "9999"
                    else min(1.0, max(0.0, rng.gauss(0.1 + 0.75 * weakness, 0.15)))
                )
                balance = 0 if closed else round(limit * util)
                utilisations.append(util)
                payment = 0 if balance == 0 else max(25, round(balance * 0.025))
                line = self._line(
                    kind,
                    rng.choice(_CARD_ISSUERS),
                    balance,
                    limit,
                    payment,
                    opened,
                    history,
                    "closed" if closed else "open",
                )
            else:
                if kind == "mortgage":
                    original = rng.randrange(120_000, 650_000, 5_000)
                    term, creditor = 360, rng.choice(_MORTGAGE_LENDERS)
                    payment = round(original * Decimal("0.0058"))
                else:
                    original = rng.randrange(4_000, 45_000, 500)
                    term = rng.choice((36, 48, 60, 72))
                    creditor = rng.choice(_AUTO_LENDERS + _PERSONAL_LENDERS)
                    payment = round(original * Decimal("1.12") / term)
                paid_off = closed or age >= term
                balance = 0 if paid_off else round(original * (term - age) / term)
                line = self._line(
                    kind,
                    creditor,
                    balance,
                    None,
                    0 if paid_off else payment,
                    opened,
                    history,
                    "paid" if paid_off else "open",
                )
            lines.append(line)
        # Place late marks on open lines that existed in that month.
        for month, severity in lates:
            candidates = [ln for ln, age in zip(lines, ages, strict=True) if age > month]
            target = candidates[rng.randrange(len(candidates))] if candidates else lines[0]
            hist = list(target["payment_history"])
            hist[month] = severity
            target["payment_history"] = "".join(hist)
            target["worst_delinquency"] = max(target["worst_delinquency"], HISTORY_CODES[severity])
        self.raw["tradelines"] = lines

        self.raw["inquiries"] = [
            {
                "date": date.fromordinal(today.toordinal() - rng.randint(3, 700)).isoformat(),
                "creditor": rng.choice(_INQUIRERS),
            }
            for _ in range(inquiries)
        ]
        if self.magic == "9999":
            self.raw["inquiries"] = [
                {"date": add_months(today, -14).isoformat(), "creditor": "Summit Bank"}
            ]
        if self.magic == "0004":
            self.raw["inquiries"] = [
                {"date": add_months(today, -m).isoformat(), "creditor": c}
                for m, c in (
                    (1, "Cedar Personal Loans"),
                    (2, "Oakridge Finance"),
                    (8, "Metro Wireless"),
                )
            ]
        records = []
        if bankrupt:
            filed = add_months(today, -24 if self.magic == "0003" else -rng.randint(12, 84))
            records.append(
                {
                    "type": "bankruptcy_ch7",
                    "filed": filed.isoformat(),
                    "amount": _money_str(rng.randrange(8_000, 60_000, 100)),
                }
            )
        elif score < 620 and self.magic not in ("0003", "0004") and rng.random() < 0.1:
            records.append(
                {
                    "type": "civil_judgment",
                    "filed": add_months(today, -rng.randint(6, 60)).isoformat(),
                    "amount": _money_str(rng.randrange(500, 6_000, 50)),
                }
            )
        self.raw["public_records"] = records

        self.raw["score"] = {
            "value": score,
            "model": SIMULATED_SCORE_MODEL,
            "factors": self._factors(score, lates, records, inquiries, oldest, utilisations),
        }

    def _factors(self, score, lates, records, inquiries, oldest, utilisations):
        ranked: list[tuple[float, str]] = []
        if records:
            ranked.append((10, "38" if lates else "40"))
        if lates:
            ranked.append((9, "02"))
            ranked.append((8, "13"))
            if len(lates) > 1:
                ranked.append((7, "18"))
        avg_util = sum(utilisations) / len(utilisations) if utilisations else 0
        if avg_util > 0.3:
            ranked.append((5 + avg_util, "10"))
        if inquiries >= 3:
            ranked.append((4 + inquiries / 10, "08"))
        if oldest < 84:
            ranked.append((3 + (84 - oldest) / 100, "14"))
        # A score model always gives up to four factors: fill with the mildest.
        for weight, code in ((2, "01"), (1.5, "05"), (1, "14"), (0.5, "09")):
            ranked.append((weight, code))
        seen: list[str] = []
        for _, code in sorted(ranked, key=lambda pair: -pair[0]):
            if code not in seen:
                seen.append(code)
        return [{"code": c, "text": FACTOR_TEXTS[c]} for c in seen[:4]]
