"""The pure SDN parser and screener (origination.sanctions): no database."""

from datetime import date
from pathlib import Path

import pytest

from origination import sanctions
from origination.sanctions import (
    DOB_MATCH,
    DOB_MISMATCH,
    DOB_UNKNOWN,
    DOB_YEAR_MATCH,
    HINT_FALSE_POSITIVE,
    HINT_POTENTIAL,
    HINT_STRONG,
    DateOfBirth,
    SdnFormatError,
)

SAMPLE = Path(__file__).resolve().parents[2] / "origination" / "data" / "sdn_sample"


def sample_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in SAMPLE.iterdir()}


@pytest.fixture(scope="module")
def entries():
    return sanctions.parse_sdn(sample_files())


@pytest.fixture(scope="module")
def index(entries):
    return sanctions.build_index(entries)


def by_ent(entries, ent_num):
    return next(e for e in entries if e.ent_num == ent_num)


# --- parsing -------------------------------------------------------------------


def test_sample_counts_and_kinds(entries):
    assert len(entries) == 40
    kinds = {}
    for e in entries:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    assert kinds == {"entity": 15, "individual": 20, "vessel": 3, "aircraft": 2}
    assert sum(len(e.aliases) for e in entries) == 18
    assert sum(len(e.addresses) for e in entries) == 11


def test_individual_row_fields(entries):
    smith = by_ent(entries, 1001)
    assert smith.name == "SMITH, John"
    assert smith.kind == "individual"
    assert smith.programs == ("SDGT",)
    assert smith.title == ""  # "-0- " is empty
    assert [(a.alt_type, a.name) for a in smith.aliases] == [
        ("aka", "SMYTHE, Johnny"),
        ("aka", "SMITH, Jon"),
    ]
    assert [(a.address, a.city, a.country) for a in smith.addresses] == [
        ("12 Marina Road", "Lagos", "Nigeria")
    ]
    assert smith.dates_of_birth == (DateOfBirth("12 Mar 1965", 1965, 1965, 3, 12),)
    assert smith.dates_of_birth[0].exact == date(1965, 3, 12)


def test_vessel_details_and_multiple_programs(entries):
    vessel = by_ent(entries, 3001)
    assert vessel.kind == "vessel"
    assert vessel.details == {
        "call_sign": "9VAB1",
        "vessel_type": "Crude Oil Tanker",
        "tonnage": "150000",
        "grt": "80000",
        "vessel_flag": "Panama",
        "vessel_owner": "GLOBAL HORIZON SHIPPING LLC",
    }
    assert by_ent(entries, 1004).programs == ("SDGT", "IRGC")
    assert by_ent(entries, 4001).kind == "aircraft"
    assert by_ent(entries, 2001).kind == "entity"
    assert by_ent(entries, 2001).dates_of_birth == ()


@pytest.mark.parametrize(
    ("remarks", "expected"),
    [
        ("DOB 12 Mar 1965; POB Lagos.", [("12 Mar 1965", 1965, 1965, 3, 12, False)]),
        ("DOB Mar 1980; POB Budapest.", [("Mar 1980", 1980, 1980, 3, None, False)]),
        ("DOB 1975; POB Hue.", [("1975", 1975, 1975, None, None, False)]),
        ("DOB circa 1960; POB Basra.", [("circa 1960", 1958, 1962, None, None, True)]),
        (
            "DOB 1958 to 1961; nationality Ireland.",
            [("1958 to 1961", 1958, 1961, None, None, False)],
        ),
        (
            "DOB 01 Jan 1970; alt. DOB 02 Jan 1971; POB Cali.",
            [("01 Jan 1970", 1970, 1970, 1, 1, False), ("02 Jan 1971", 1971, 1971, 1, 2, False)],
        ),
        ("POB Enugu, Nigeria.", []),
        ("DOB unknown; POB X.", []),
    ],
)
def test_dates_of_birth_from_remarks(remarks, expected):
    got = sanctions.dates_of_birth_from_remarks(remarks)
    assert [(d.text, d.year_from, d.year_to, d.month, d.day, d.circa) for d in got] == expected


def test_programs_split():
    assert sanctions.split_programs("SDGT] [IFSR") == ("SDGT", "IFSR")
    assert sanctions.split_programs("[CUBA]") == ("CUBA",)
    assert sanctions.split_programs("") == ()


def test_comments_file_extends_remarks_and_eof_byte_ignored():
    files = {
        "SDN.CSV": b'7,"ROE, Richard","individual","SDGT","-0- ","-0- ","-0- ","-0- ","-0- ",'
        b'"-0- ","-0- ","POB Lima."\r\n\x1a',
        "sdn_comments.csv": b'7,"DOB 04 Jul 1976."\r\n',
    }
    (entry,) = sanctions.parse_sdn(files)
    assert entry.remarks == "POB Lima. DOB 04 Jul 1976."
    assert entry.dates_of_birth[0].exact == date(1976, 7, 4)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"alt.csv": b""}, "sdn.csv is missing"),
        ({"sdn.csv": b'1,"X","-0- "\r\n'}, "sdn.csv line 1: expected 12 fields, got 3"),
        ({"sdn.csv": b'A,"X","","","","","","","","","",""\r\n'}, "ent_num 'A' is not a number"),
        (
            {
                "sdn.csv": b'1,"X","","","","","","","","","",""\r\n'
                + b'1,"Y","","","","","","","","","",""\r\n'
            },
            "ent_num 1 is repeated",
        ),
    ],
)
def test_format_errors(files, message):
    with pytest.raises(SdnFormatError, match=message):
        sanctions.parse_sdn(files)


# --- normalisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "individual", "expected"),
    [
        ("SMITH, John", True, "john smith"),
        ("GARCÍA LÓPEZ, José Luis", True, "jose luis garcia lopez"),
        ("O'CONNOR, Patrick Sean", True, "patrick sean oconnor"),
        ("AL-RASHID, Omar", True, "omar al rashid"),
        ("MÜLLER, Klaus", True, "klaus muller"),
        ("ACME TRADING CO., LTD.", False, "acme trading"),
        ("ANGLO-CARIBBEAN CO., LTD.", False, "anglo caribbean"),
        ("Limited Co", False, "limited co"),  # only legal-form words: kept
        ("  Jane   Doe ", False, "jane doe"),
    ],
)
def test_normalise_name(name, individual, expected):
    assert sanctions.normalise_name(name, individual=individual) == expected


def test_phonetic_key_folds_spelling_variants():
    assert sanctions.phonetic_key("jon smyth") == sanctions.phonetic_key("john smith") == "jon smit"
    assert sanctions.phonetic_key("mohamed") == sanctions.phonetic_key("mohammed")


# --- DOB comparison ------------------------------------------------------------


def test_compare_dob():
    exact = DateOfBirth("12 Mar 1965", 1965, 1965, 3, 12)
    year = DateOfBirth("1975", 1975, 1975)
    month = DateOfBirth("Mar 1980", 1980, 1980, 3)
    circa = DateOfBirth("circa 1960", 1958, 1962, circa=True)
    assert sanctions.compare_dob(date(1965, 3, 12), [exact]) == DOB_MATCH
    assert sanctions.compare_dob(date(1965, 3, 13), [exact]) == DOB_MISMATCH
    assert sanctions.compare_dob(date(1975, 6, 1), [year]) == DOB_YEAR_MATCH
    assert sanctions.compare_dob(date(1980, 3, 30), [month]) == DOB_YEAR_MATCH
    assert sanctions.compare_dob(date(1980, 4, 1), [month]) == DOB_MISMATCH
    assert sanctions.compare_dob(date(1962, 12, 31), [circa]) == DOB_YEAR_MATCH
    assert sanctions.compare_dob(date(1963, 1, 1), [circa]) == DOB_MISMATCH
    assert sanctions.compare_dob(None, [exact]) == DOB_UNKNOWN
    assert sanctions.compare_dob(date(1965, 3, 12), []) == DOB_UNKNOWN
    # Any one of several listed dates is enough.
    assert sanctions.compare_dob(date(1965, 3, 12), [year, exact]) == DOB_MATCH


# --- screening -----------------------------------------------------------------


def summary(matches):
    return [(m.ent_num, m.matched_name, m.score, m.dob_result, m.disposition) for m in matches]


def test_exact_match_with_matching_dob_is_strong(index):
    matches = sanctions.screen("John Smith", date(1965, 3, 12), index, subject_kind="person")
    assert summary(matches) == [(1001, "SMITH, John", 100.0, DOB_MATCH, HINT_STRONG)]
    assert matches[0].programs == ("SDGT",)
    assert matches[0].listed_dates_of_birth == ("12 Mar 1965",)
    assert matches[0].matched_alias is False


def test_fuzzy_match_spelling_variant(index):
    # "jon smyth" vs "john smith" is 84.2 on spelling alone: the phonetic
    # keys are equal, so it scores 100 * PHONETIC_WEIGHT.
    matches = sanctions.screen("Jon Smyth", None, index, subject_kind="person")
    assert summary(matches) == [(1001, "SMITH, John", 95.0, DOB_UNKNOWN, HINT_POTENTIAL)]


def test_alias_match(index):
    matches = sanctions.screen("Janie Doe", date(1970, 1, 1), index)
    assert summary(matches) == [(1002, "DOE, Janie", 100.0, DOB_MATCH, HINT_STRONG)]
    assert matches[0].matched_alias is True
    assert matches[0].name == "DOE, Jane Marie"


def test_accents_and_middle_names(index):
    # The list has no middle name for Smith; the subject's first+last is tried.
    assert summary(sanctions.screen("John Q Smith", None, index, subject_kind="person")) == [
        (1001, "SMITH, John", 100.0, DOB_UNKNOWN, HINT_POTENTIAL)
    ]
    matches = sanctions.screen("Jose Luis Garcia Lopez", date(1968, 2, 14), index)
    assert summary(matches) == [(1003, "GARCÍA LÓPEZ, José Luis", 100.0, DOB_MATCH, HINT_STRONG)]


def test_dob_mismatch_is_likely_false_positive_above_the_high_bar(index):
    matches = sanctions.screen("John Smith", date(1990, 1, 1), index, subject_kind="person")
    assert summary(matches) == [(1001, "SMITH, John", 100.0, DOB_MISMATCH, HINT_FALSE_POSITIVE)]


def test_dob_mismatch_below_the_high_bar_is_dropped(index):
    # 95.0 by sound alone, below a raised bar of 96: dropped on the DOB mismatch.
    assert sanctions.screen("Jon Smyth", date(1990, 1, 1), index, mismatch_bar=96) == []
    # Without a DOB the same name is reported.
    assert len(sanctions.screen("Jon Smyth", None, index, mismatch_bar=96)) == 1


def test_year_only_dob(index):
    matches = sanctions.screen("Van Minh Nguyen", date(1975, 8, 9), index)
    assert summary(matches) == [(1008, "NGUYEN, Van Minh", 100.0, DOB_YEAR_MATCH, HINT_POTENTIAL)]


def test_entity_versus_person(index):
    # A person named like a company is not screened against entities...
    assert sanctions.screen("Acme Trading", None, index, subject_kind="person") == []
    # ...a business is, and legal forms are ignored.
    matches = sanctions.screen("Acme Trading LLC", None, index, subject_kind="business")
    assert summary(matches) == [
        (2001, "ACME TRADING CO., LTD.", 100.0, DOB_UNKNOWN, HINT_POTENTIAL)
    ]
    # ...and a business is not screened against individuals.
    assert sanctions.screen("John Smith", None, index, subject_kind="business") == []
    # A vessel by its former name.
    matches = sanctions.screen("Pearl of the Ocean", None, index, subject_kind="business")
    assert summary(matches) == [(3001, "PEARL OF THE OCEAN", 100.0, DOB_UNKNOWN, HINT_POTENTIAL)]


def test_clean_names_and_subset_names_do_not_match(index):
    assert sanctions.screen("Ada Lovelace", date(1985, 12, 10), index) == []
    # token_set_ratio would score this 100 (a subset); token_sort does not.
    assert sanctions.screen("Acme", None, index) == []
    assert sanctions.screen("", None, index) == []


def test_threshold_and_ordering(index):
    matches = sanctions.screen("John Smith", None, index, threshold=70)
    assert [m.ent_num for m in matches][:1] == [1001]
    assert all(m.score >= 70 for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert 1016 in {m.ent_num for m in matches}  # SMITH, Jonathan Edward


def test_screen_accepts_plain_entries(entries):
    assert summary(sanctions.screen("John Smith", date(1965, 3, 12), entries)) == [
        (1001, "SMITH, John", 100.0, DOB_MATCH, HINT_STRONG)
    ]


def test_listed_middle_name_the_subject_does_not_give(index):
    matches = sanctions.screen("Jonathan Smith", date(1990, 6, 27), index, subject_kind="person")
    assert summary(matches) == [(1016, "SMITH, Jonathan Edward", 100.0, DOB_MATCH, HINT_STRONG)]
    # Spelling variant plus a missing middle name: "mohamed hassan" vs the
    # listed "mohammed (ali) hassan" scores 96.6 on spelling.
    matches = sanctions.screen("Mohamed Hassan", None, index, subject_kind="person")
    assert summary(matches) == [(1009, "HASSAN, Mohammed Ali", 96.6, DOB_UNKNOWN, HINT_POTENTIAL)]
