"""NACHA PPD debit files and return files: exact record layouts, hand-computed."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from rails import nacha

ORIGIN = nacha.Origin(
    destination_routing="011000015",
    destination_name="Federal Reserve Bank",
    odfi_routing="021000021",
    origin_name="Acme Lending",
    company_name="Acme Lending",
    company_id="1234567890",
)
ENTRIES = [
    nacha.DebitEntry("L-0000001", "Dana Rivera", "011000015", "123456789", "checking", 10662, 1),
    nacha.DebitEntry("L-0000002", "José Núñez", "122000247", "98765-4321", "savings", 5000, 2),
]


def build(**kw):
    return nacha.build_ppd_debit_file(
        origin=kw.pop("origin", ORIGIN),
        entries=kw.pop("entries", ENTRIES),
        created_at=datetime(2026, 2, 14, 17, 5),
        effective_date=date(2026, 2, 15),
        file_id_modifier=kw.pop("file_id_modifier", "A"),
    )


def test_every_record_is_94_characters_and_the_file_is_blocked_in_tens():
    lines = build().splitlines()
    assert len(lines) == 10  # 1 + 5 + 2 entries + 8 + 9 = 6 records, 4 filler
    assert all(len(line) == 94 for line in lines)
    assert [line[0] for line in lines] == ["1", "5", "6", "6", "8", "9", "9", "9", "9", "9"]
    assert lines[6:] == ["9" * 94] * 4


def test_file_header_fields():
    header = build().splitlines()[0]
    assert header[0:1] == "1"
    assert header[1:3] == "01"
    assert header[3:13] == " 011000015"
    assert header[13:23] == " 021000021"
    assert header[23:29] == "260214"
    assert header[29:33] == "1705"
    assert header[33] == "A"
    assert header[34:37] == "094"
    assert header[37:39] == "10"
    assert header[39] == "1"
    assert header[40:63] == "FEDERAL RESERVE BANK   "
    assert header[63:86] == "ACME LENDING           "
    assert header[86:94] == " " * 8


def test_batch_header_fields():
    batch = build().splitlines()[1]
    assert batch == (
        "5225ACME LENDING    " + " " * 20 + "1234567890PPDLOAN PMT  260215260215   1021000020000001"
    )
    assert batch[50:53] == "PPD"
    assert batch[69:75] == "260215"  # effective entry date
    assert batch[79:87] == "02100002"  # ODFI


def test_entry_detail_records():
    first, second = build().splitlines()[2:4]
    assert first == (
        "627"
        + "01100001"
        + "5"
        + "123456789        "
        + "0000010662"
        + "L-0000001      "
        + "DANA RIVERA           "
        + "  "
        + "0"
        + "021000020000001"
    )
    assert second[1:3] == "37"  # savings debit
    assert second[3:12] == "122000247"
    assert second[12:29] == "98765-4321       "
    assert second[29:39] == "0000005000"
    assert second[54:76] == "JOSE NUNEZ            "  # accents folded to ASCII
    assert second[79:94] == "021000020000002"


def test_batch_and_file_control_totals_and_hash():
    lines = build().splitlines()
    # entry hash: 01100001 + 12200024 = 13300025; total 106.62 + 50.00 = 156.62
    assert lines[4] == (
        "8225"
        + "000002"
        + "0013300025"
        + "000000015662"
        + "000000000000"
        + "1234567890"
        + " " * 25
        + "02100002"
        + "0000001"
    )
    assert (
        lines[5]
        == ("9" + "000001" + "000001" + "00000002" + "0013300025" + "000000015662" + "000000000000")
        + " " * 39
    )


def test_entry_hash_keeps_the_rightmost_ten_digits():
    # 200 x 99,999,999 = 19,999,999,800 -> 9,999,999,800
    assert nacha.entry_hash(["999999999"] * 200) == 9_999_999_800


def test_eleven_entries_make_two_blocks():
    entries = [
        nacha.DebitEntry(f"L-{i}", "A", "011000015", "1234", "checking", 100, i)
        for i in range(1, 12)
    ]
    lines = build(entries=entries).splitlines()
    assert len(lines) == 20  # 15 records + 5 filler
    control = lines[14]
    assert control[0] == "9"
    assert control[7:13] == "000002"  # block count
    assert control[13:21] == "00000011"
    assert control[21:31] == str(11 * 1100001).rjust(10, "0")
    assert control[31:43] == "000000001100"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routing": "011000016"}, "not a valid routing number"),
        ({"amount_cents": 0}, "amount"),
        ({"account_type": "brokerage"}, "checking or savings"),
        ({"account": "12 34"}, "account number"),
    ],
)
def test_bad_entries_are_refused(change, message):
    fields = {
        "individual_id": "L-1",
        "individual_name": "A",
        "routing": "011000015",
        "account": "1234",
        "account_type": "checking",
        "amount_cents": 100,
        "trace_seq": 1,
        **change,
    }
    with pytest.raises(nacha.NachaError, match=message):
        build(entries=[nacha.DebitEntry(**fields)])


def test_repeated_trace_sequence_and_empty_file_are_refused():
    with pytest.raises(nacha.NachaError, match="repeated"):
        build(entries=[ENTRIES[0], ENTRIES[0]])
    with pytest.raises(nacha.NachaError, match="at least one"):
        build(entries=[])
    with pytest.raises(nacha.NachaError, match="modifier"):
        build(file_id_modifier="a")


def test_routing_validation_uses_the_aba_check_digit():
    assert nacha.is_valid_routing("021000021")
    assert not nacha.is_valid_routing("021000022")
    assert not nacha.is_valid_routing("02100002")
    assert not nacha.is_valid_routing("abcdefghi")


RETURN_FILE = "\n".join(
    [
        "101 021000021 0910000192602201200A094101ACME LENDING           RETURNS                        ",  # noqa: E501
        "5225ACME LENDING                        1234567890PPDLOAN PMT  260220260220   1091000010000001",  # noqa: E501
        "626021000021                 0000010662L-0000001                              1091000010000001",  # noqa: E501
        "799R01021000020000001      02100002                                            091000010000001",  # noqa: E501
        "636021000021                 0000005000L-0000002                              1091000010000002",  # noqa: E501
        "799R02021000020000002      02100002                                            091000010000002",  # noqa: E501
        "82250000040004200004000000015662000000000000123456789                          091000010000001",  # noqa: E501
        "9000001000001000000040004200004000000015662000000000000                                       ",  # noqa: E501
        "9" * 94,
        "9" * 94,
    ]
)


def test_parse_returns_reads_code_original_trace_and_amount():
    assert all(len(line) == 94 for line in RETURN_FILE.splitlines())
    returns = nacha.parse_returns(RETURN_FILE)
    assert [(r.trace_number, r.return_code, r.amount) for r in returns] == [
        ("021000020000001", "R01", Decimal("106.62")),
        ("021000020000002", "R02", Decimal("50.00")),
    ]
    assert [(r.account_type, r.individual_id, r.line_number) for r in returns] == [
        ("checking", "L-0000001", 3),
        ("savings", "L-0000002", 5),
    ]


def test_build_return_file_round_trips():
    text = nacha.build_return_file(
        origin=ORIGIN,
        returns=[("021000020000007", "R03", 12345, "checking", "L-9")],
        created_at=datetime(2026, 2, 20, 12, 0),
        rdfi_routing="091000019",
    )
    assert all(len(line) == 94 for line in text.splitlines())
    assert len(text.splitlines()) == 10
    (r,) = nacha.parse_returns(text)
    assert (r.trace_number, r.return_code, r.amount) == (
        "021000020000007",
        "R03",
        Decimal("123.45"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6" * 93, "94 characters"),
        (RETURN_FILE.splitlines()[2] + "\n" + RETURN_FILE.splitlines()[6], "no return addenda"),
        (RETURN_FILE.splitlines()[3], "without its entry"),
        ("X" + " " * 93, "unknown record type"),
    ],
)
def test_malformed_return_files_are_refused_with_the_line(text, message):
    with pytest.raises(nacha.NachaError, match=message):
        nacha.parse_returns(text)
