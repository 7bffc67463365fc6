"""Disbursement credits: the NACHA PPD credit file.

Expected records are written out by hand from the NACHA layouts
(rails/nacha.py docstring); the entry hash and totals are computed in the
comments."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from rails import nacha
from rails.disbursement import Disbursement, build_disbursement_file
from servicing.services import autopay

ORIGIN = nacha.Origin(
    destination_routing="011000015",
    destination_name="Federal Reserve Bank",
    odfi_routing="021000021",
    origin_name="Acme Lending",
    company_name="Acme Lending",
    company_id="1234567890",
)
PAYOUTS = [
    Disbursement(
        "APP-000123", "Dana Rivera", "011000015", "123456789", "checking", Decimal("4850.00")
    ),
    Disbursement(
        "APP-000124", "José Núñez", "122000247", "9876543210", "savings", Decimal("1999.99")
    ),
]
CREATED = datetime(2026, 3, 2, 16, 45)
EFFECTIVE = date(2026, 3, 3)


def build(payouts=PAYOUTS, **kw):
    return build_disbursement_file(
        origin=ORIGIN, disbursements=payouts, created_at=CREATED, effective_date=EFFECTIVE, **kw
    )


def test_credit_file_is_94_character_records_blocked_in_tens():
    result = build()
    lines = result.text.splitlines()
    assert result.text.endswith("\n")
    assert len(lines) == 10  # 1, 5, 6, 6, 8, 9 and four all-9 fillers
    assert all(len(line) == 94 for line in lines)
    assert [line[0] for line in lines] == ["1", "5", "6", "6", "8", "9", "9", "9", "9", "9"]
    assert lines[6:] == ["9" * 94] * 4


def test_credit_file_header_and_batch_header():
    header, batch = build().text.splitlines()[:2]
    assert header == (
        "101 011000015 021000021260302164"
        "5A094101FEDERAL RESERVE BANK   ACME LENDING           " + " " * 8
    )
    assert batch == (
        "5220ACME LENDING    " + " " * 20 + "1234567890PPDLOAN DISB 260303260303   1021000020000001"
    )
    assert batch[1:4] == "220"  # credits only


def test_credit_entries_use_codes_22_and_32():
    first, second = build().text.splitlines()[2:4]
    assert first == (
        "622"
        + "01100001"
        + "5"
        + "123456789        "
        + "0000485000"
        + "APP-000123     "
        + "DANA RIVERA           "
        + "  "
        + "0"
        + "021000020000001"
    )
    assert second[1:3] == "32"  # savings credit
    assert second[3:12] == "122000247"
    assert second[29:39] == "0000199999"
    assert second[54:76] == "JOSE NUNEZ            "
    assert second[79:94] == "021000020000002"


def test_controls_carry_totals_in_the_credit_columns_and_the_entry_hash():
    lines = build().text.splitlines()
    # entry hash 01100001 + 12200024 = 13300025; credits 4,850.00 + 1,999.99 = 6,849.99
    assert lines[4] == (
        "8220"
        + "000002"
        + "0013300025"
        + "000000000000"
        + "000000684999"
        + "1234567890"
        + " " * 25
        + "02100002"
        + "0000001"
    )
    assert (
        lines[5]
        == ("9" + "000001" + "000001" + "00000002" + "0013300025" + "000000000000" + "000000684999")
        + " " * 39
    )


def test_result_reports_traces_count_and_total():
    result = build()
    assert result.trace_numbers == {
        "APP-000123": "021000020000001",
        "APP-000124": "021000020000002",
    }
    assert result.entry_count == 2
    assert result.total == Decimal("6849.99")
    assert str(result.total) == "6849.99"


def test_eleven_credits_make_two_blocks_and_the_hash_keeps_ten_digits():
    payouts = [
        Disbursement(f"APP-{i:06d}", "A B", "011000015", "1234", "checking", Decimal("1.00"))
        for i in range(1, 12)
    ]
    lines = build(payouts).text.splitlines()
    assert len(lines) == 20  # 15 records, 5 fillers
    control = lines[14]
    assert control[7:13] == "000002"
    assert control[13:21] == "00000011"
    assert control[21:31] == str(11 * 1100001).rjust(10, "0")
    assert control[31:43] == "000000000000"
    assert control[43:55] == "000000001100"


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"routing": "011000016"}, "check digit"),
        ({"account": "12"}, "4 to 17 digits"),
        ({"amount": Decimal("0.00")}, "positive whole number of cents"),
        ({"amount": Decimal("10.005")}, "positive whole number of cents"),
        ({"amount": 10.5}, "decimal number of dollars"),
        ({"account_type": "brokerage"}, "checking or savings"),
    ],
)
def test_a_bad_payout_is_refused_naming_its_reference(change, field_message):
    from dataclasses import replace

    bad = replace(PAYOUTS[1], **change)
    with pytest.raises(ValidationFailed) as exc:
        build([PAYOUTS[0], bad])
    assert "APP-000124" in exc.value.fields
    assert field_message in exc.value.message + exc.value.fields["APP-000124"]


def test_duplicate_references_and_empty_lists_are_refused():
    with pytest.raises(ValidationFailed, match="unique"):
        build([PAYOUTS[0], PAYOUTS[0]])
    with pytest.raises(ValidationFailed, match="nothing to disburse"):
        build([])


def test_servicing_debit_files_come_from_the_same_writer():
    assert autopay.nacha is nacha  # servicing's debits come from the same writer
    debit = nacha.build_ppd_debit_file(
        origin=ORIGIN,
        entries=[nacha.DebitEntry("L-1", "Dana", "011000015", "1234", "checking", 100, 1)],
        created_at=CREATED,
        effective_date=EFFECTIVE,
    ).splitlines()
    assert debit[1][1:4] == "225"
    assert debit[2][1:3] == "27"
    assert debit[3][20:32] == "000000000100"  # total debits
    assert debit[3][32:44] == "000000000000"  # total credits
