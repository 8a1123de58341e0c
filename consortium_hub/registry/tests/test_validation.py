"""The affiliation row rules (registry/validation.py): one bad row never rejects the file."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io

import pytest
import tablib
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from consortium_hub.directory import identifiers
from consortium_hub.registry import validation as v
from consortium_hub.registry.models import Affiliation, DisambiguationSource, Section

ROR = "05dxps055"  # a real ROR ID (with a valid checksum)

GOOD = {
    "email": "ann@alpha.example", "affiliation-section": "employment", "department-name": "Physics",
    "role-title": "Professor", "start-date": "2019-09", "end-date": "", "org-name": "Alpha University",
    "org-country": "GB", "org-city": "London", "org-region": "", "disambiguated-organization-identifier": ROR,
    "disambiguation-source": "ROR", "external-id": "", "external-id-type": "", "external-id-url": "", "url": "",
    "id": "",
}


def csv_bytes(rows: list[dict[str, str]], columns: tuple[str, ...] = v.COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue().encode()


def row(**changes: str) -> dict[str, str]:
    data = dict(GOOD)
    data.update({k.replace("_", "-"): value for k, value in changes.items()})
    return data


def problems_of(result: v.ValidationResult) -> list[tuple[int | None, str]]:
    return [(p.row, p.column) for p in result.all_problems()]


def ror_from_number(number: int) -> str:
    body = ""
    for _ in range(6):
        body = identifiers.CROCKFORD[number % 32] + body
        number //= 32
    return f"0{body}{identifiers.ror_checksum(body):02d}"


# --- The model and this module agree ------------------------------------------------------------------

def test_sections_sources_and_lengths_match_the_model():
    assert v.SECTIONS == tuple(Section.values)
    assert v.SOURCES == tuple(DisambiguationSource.values)
    for name, limit in v.MAX_LENGTHS.items():
        assert Affiliation._meta.get_field(name).max_length == limit, name
    for name in v.CONTENT_FIELDS:
        Affiliation._meta.get_field(name)  # every normalised key is a model field
    assert set(v.REQUIRED_FIELDS) == {f for f in v.CONTENT_FIELDS if not Affiliation._meta.get_field(f).blank}


# --- The header ---------------------------------------------------------------------------------------------

def test_a_good_file_in_any_column_order():
    columns = tuple(reversed(v.COLUMNS))
    result = v.validate_file(csv_bytes([row()], columns))
    assert result.all_problems() == []
    assert [r.kind for r in result.rows] == [v.CREATE]
    assert result.rows[0].fields["disambiguated_organization_identifier"] == f"https://ror.org/{ROR}"


def test_missing_required_columns_are_named_and_no_row_is_accepted():
    columns = tuple(c for c in v.COLUMNS if c not in ("org-city", "email"))
    result = v.validate_file(csv_bytes([row()], columns))
    assert not result.readable and result.rows == []
    assert len(result.file_problems) == 1
    reason = result.file_problems[0].reason
    assert "email" in reason and "org-city" in reason
    assert result.file_problems[0].row is None


def test_unknown_columns_are_named():
    result = v.validate_file(csv_bytes([row()], (*v.COLUMNS, "start date")))
    assert not result.readable
    assert "start date" in result.file_problems[0].reason


def test_optional_columns_may_be_left_out():
    result = v.validate_file(csv_bytes([row()], (*v.REQUIRED_COLUMNS,)))
    assert result.all_problems() == []
    assert result.rows[0].fields["start_date"] == ""


def test_unreadable_files_are_a_file_problem():
    assert not v.validate_file(b"").readable
    assert not v.validate_file("email\n\xe9".encode("latin-1")).readable
    assert not v.validate_file(b"%PDF-1.4 something").readable


def test_xlsx_gives_the_same_result_as_csv():
    data = tablib.Dataset(headers=list(v.COLUMNS))
    for r in (row(), row(email="bob@alpha.example", start_date="2018")):
        data.append([r[c] for c in v.COLUMNS])
    from_xlsx = v.validate_file(data.export("xlsx"), "affiliations.xlsx")
    from_csv = v.validate_file(csv_bytes([row(), row(email="bob@alpha.example", start_date="2018")]))
    assert [(r.kind, r.fields) for r in from_xlsx.rows] == [(r.kind, r.fields) for r in from_csv.rows]


# --- Rows ----------------------------------------------------------------------------------------------------

def test_row_kinds_from_the_id_column():
    result = v.validate_file(csv_bytes([row(), row(id="12", email="bob@alpha.example"),
                                        {"id": "13"}]))
    assert [(r.row, r.kind, r.affiliation_id) for r in result.rows] == [
        (2, v.CREATE, None), (3, v.UPDATE, 12), (4, v.DELETE, 13)]
    assert result.rows[2].fields == {} and result.rows[2].content_key == ""


def test_one_bad_row_never_rejects_the_file():
    result = v.validate_file(csv_bytes([row(), row(email="bob@alpha.example", org_country="XX"),
                                        row(email="cy@alpha.example")]))
    assert [r.row for r in result.rows] == [2, 4]
    assert problems_of(result) == [(3, "org-country")]
    assert result.rejected_rows == [3]
    assert "XX" in result.problems[0].reason
    assert result.rejected_values[3]["email"] == "bob@alpha.example"


def test_an_update_must_be_complete():
    result = v.validate_file(csv_bytes([{"id": "5", "email": "ann@alpha.example"}]))
    assert result.rows == []
    assert {p.column for p in result.problems} == {"affiliation-section", "org-name", "org-country", "org-city",
                                                   "disambiguated-organization-identifier",
                                                   "disambiguation-source"}
    assert all(p.row == 2 for p in result.problems)


@pytest.mark.parametrize("id_text", ["0", "-3", "abc", "1.5", "12345678901234567890", "１２"])
def test_ids_are_positive_whole_numbers(id_text):
    result = v.validate_file(csv_bytes([row(id=id_text), {"id": id_text}]))
    assert result.rows == []
    assert problems_of(result) == [(2, "id"), (3, "id")]


def test_the_same_id_twice_is_refused():
    result = v.validate_file(csv_bytes([row(id="7"), {"id": "7"}]))
    assert [r.row for r in result.rows] == [2]
    assert problems_of(result) == [(3, "id")]
    assert "row 2" in result.problems[0].reason


def test_the_same_content_twice_is_a_duplicate_of_the_first_row():
    result = v.validate_file(csv_bytes([row(), row(email="bob@alpha.example"),
                                        # the same affiliation written differently: still the same content
                                        row(email="ann@ALPHA.example", affiliation_section="EMPLOYMENT",
                                            disambiguated_organization_identifier=f"https://ror.org/{ROR.upper()}",
                                            org_country="gb")]))
    assert [r.row for r in result.rows] == [2, 3]
    assert problems_of(result) == [(4, "")]
    assert "row 2" in result.problems[0].reason


def test_a_row_with_more_cells_than_columns_is_rejected_alone():
    content = csv_bytes([row()]) + b",".join([b"x@alpha.example"] * (len(v.COLUMNS) + 2)) + b"\n"
    result = v.validate_file(content)
    assert [r.row for r in result.rows] == [2]
    assert [p.row for p in result.problems] == [3]


# --- Fields -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "column"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "ann@alpha"}, "email"),
    ({"email": "ann alpha@alpha.example"}, "email"),
    ({"affiliation_section": "job"}, "affiliation-section"),
    ({"org_name": ""}, "org-name"),
    ({"org_city": ""}, "org-city"),
    ({"org_country": "UK"}, "org-country"),
    ({"org_country": "GBR"}, "org-country"),
    ({"start_date": "2019-13"}, "start-date"),
    ({"start_date": "2019-02-29"}, "start-date"),
    ({"start_date": "19-02"}, "start-date"),
    ({"start_date": "2019/02"}, "start-date"),
    ({"start_date": "２０１９"}, "start-date"),
    ({"end_date": "0000"}, "end-date"),
    ({"start_date": "2020-03", "end_date": "2020-02-28"}, "end-date"),
    ({"disambiguation_source": "ISNI"}, "disambiguation-source"),
    ({"disambiguated_organization_identifier": "05dxps056"}, "disambiguated-organization-identifier"),
    ({"disambiguation_source": "GRID", "disambiguated_organization_identifier": "1234.5"},
     "disambiguated-organization-identifier"),
    ({"disambiguation_source": "RINGGOLD", "disambiguated_organization_identifier": "RG123"},
     "disambiguated-organization-identifier"),
    ({"disambiguation_source": "RINGGOLD", "disambiguated_organization_identifier": "４６１６"},
     "disambiguated-organization-identifier"),
    ({"disambiguation_source": "FUNDREF", "disambiguated_organization_identifier": "10.1000/123456"},
     "disambiguated-organization-identifier"),
    ({"disambiguation_source": "LEI", "disambiguated_organization_identifier": "5493001KJTIIGC8Y1R13"},
     "disambiguated-organization-identifier"),
    ({"url": "ftp://alpha.example/"}, "url"),
    ({"url": "alpha.example"}, "url"),
    ({"external_id": "G-1"}, "external-id-type"),
    ({"external_id_type": "grant_number"}, "external-id"),
    ({"external_id_url": "https://alpha.example/g/1"}, "external-id"),
    ({"external_id": "G-1", "external_id_type": "grant_number", "external_id_url": "www.alpha.example"},
     "external-id-url"),
    ({"department_name": "x" * 1001}, "department-name"),
    ({"role_title": "Professor\x07"}, "role-title"),
    ({"org_name": "x" * 1001}, "org-name"),
    ({"external_id": "G-1", "external_id_type": "t" * 65}, "external-id-type"),
    ({"url": "https://alpha.example/" + "x" * 1000}, "url"),
])
def test_each_rule_names_the_row_and_column(changes, column):
    result = v.validate_file(csv_bytes([row(**changes)]))
    assert result.rows == []
    assert problems_of(result) == [(2, column)]
    assert result.problems[0].reason


def test_identifiers_in_other_scripts_digits_are_refused_in_plain_words():
    normal, reason = v.normalise_identifier("RINGGOLD", "４６１６")
    assert normal == "" and "RINGGOLD" in reason and "LEI" not in reason


def test_normal_forms():
    result = v.validate_file(csv_bytes([
        row(email="Ann.Lee@Alpha.EXAMPLE", affiliation_section="Invited Position", org_country="gb",
            disambiguation_source="ror", disambiguated_organization_identifier=f"ror.org/{ROR}",
            external_id="G-1", external_id_type="Grant_Number", url="https://alpha.example/people/ann"),
        row(email="b@alpha.example", disambiguation_source="FUNDREF",
            disambiguated_organization_identifier="http://dx.doi.org/10.13039/501100000780"),
        *(row(email=f"{n}@alpha.example", disambiguation_source=source, disambiguated_organization_identifier=text)
          for n, (source, text) in enumerate([("FUNDREF", "10.13039/501100000780"), ("FUNDREF", "501100000780"),
                                              ("GRID", "GRID.1234.5A"), ("RINGGOLD", "4616"),
                                              ("lei", "5493001kjtiigc8y1r12")])),
    ]))
    assert result.problems == []
    first = result.rows[0].fields
    assert first["email"] == "ann.lee@alpha.example"
    assert first["section"] == "invited-position"
    assert first["org_country"] == "GB"
    assert first["disambiguation_source"] == "ROR"
    assert first["disambiguated_organization_identifier"] == f"https://ror.org/{ROR}"
    assert first["external_id_type"] == "grant_number"
    identifiers_stored = [r.fields["disambiguated_organization_identifier"] for r in result.rows[1:]]
    assert identifiers_stored == ["https://doi.org/10.13039/501100000780"] * 3 + ["grid.1234.5a", "4616",
                                                                                 "5493001KJTIIGC8Y1R12"]


@pytest.mark.parametrize(("start", "end"), [("2020", "2020-01-05"), ("2020-05", "2020"), ("2020-05-01", "2020-05"),
                                            ("2019-12-31", "2020-01-01"), ("", "2020"), ("2020", "")])
def test_dates_compare_on_the_precision_both_have(start, end):
    result = v.validate_file(csv_bytes([row(start_date=start, end_date=end)]))
    assert result.problems == []


def test_clean_affiliation_raises_a_dict_keyed_by_field_name():
    data = {v.COLUMN_FIELDS[c]: value for c, value in GOOD.items() if c != "id"}
    assert v.clean_affiliation(data)["org_country"] == "GB"
    with pytest.raises(ValidationError) as caught:
        v.clean_affiliation({**data, "org_country": "ZZ", "start_date": "2020-02-30", "org_city": None})
    assert set(caught.value.message_dict) == {"org_country", "start_date", "org_city"}


def test_clean_affiliation_names_other_fields_by_the_given_labels():
    data = {v.COLUMN_FIELDS[c]: value for c, value in GOOD.items() if c != "id"}
    with pytest.raises(ValidationError) as caught:
        v.clean_affiliation({**data, "external_id": "G-1"}, {**v.FIELD_COLUMNS, "external_id": "External id"})
    assert caught.value.message_dict == {"external_id_type": ["Required when External id is given."]}


# --- Properties -----------------------------------------------------------------------------------------------

@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_every_calendar_day_parses_at_every_precision(day):
    text = day.isoformat()
    assert v.parse_partial_date(text) == (day.year, day.month, day.day)
    assert v.parse_partial_date(text[:7]) == (day.year, day.month)
    assert v.parse_partial_date(text[:4]) == (day.year,)


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(29, 31))
def test_days_past_the_end_of_the_month_are_refused(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    exists = day <= calendar.monthrange(year, month)[1]
    assert (v.parse_partial_date(text) is not None) == exists


@given(st.dates(), st.dates(), st.integers(1, 3), st.integers(1, 3))
def test_start_after_end_is_reported_exactly_when_the_common_precision_says_so(start, end, p1, p2):
    cut = {1: 4, 2: 7, 3: 10}
    start_text, end_text = start.isoformat()[:cut[p1]], end.isoformat()[:cut[p2]]
    common = cut[min(p1, p2)]
    in_order = start.isoformat()[:common] <= end.isoformat()[:common]
    data = {v.COLUMN_FIELDS[c]: value for c, value in GOOD.items() if c != "id"}
    _fields, errors = v.clean_content({**data, "start_date": start_text, "end_date": end_text})
    assert (errors == []) == in_order
    if not in_order:
        assert [name for name, _reason in errors] == ["end_date"]


@given(st.integers(0, 32 ** 6 - 1), st.sampled_from(["", "https://ror.org/", "http://ror.org/", "ror.org/"]),
       st.booleans())
def test_generated_ror_ids_with_valid_checksums_are_accepted_and_stored_as_urls(number, prefix, upper):
    ror = ror_from_number(number)
    text = prefix + (ror.upper() if upper else ror)
    fields, errors = v.clean_content({**{v.COLUMN_FIELDS[c]: x for c, x in GOOD.items() if c != "id"},
                                      "disambiguated_organization_identifier": text})
    assert errors == []
    assert fields["disambiguated_organization_identifier"] == f"https://ror.org/{ror}"


@given(st.integers(0, 32 ** 6 - 1), st.integers(1, 96))
def test_ror_ids_with_a_wrong_checksum_are_refused(number, shift):
    ror = ror_from_number(number)
    wrong = (int(ror[7:]) + shift) % 100
    bad = f"{ror[:7]}{wrong:02d}"
    normal, reason = v.normalise_identifier("ROR", bad)
    assert normal == "" and bad in reason


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18))
def test_generated_leis_with_check_digits_are_valid(base):
    number = int("".join(str(int(c, 36)) for c in base + "00"))
    lei = f"{base}{98 - number % 97:02d}"
    assert v.is_valid_lei(lei)
    assert not v.is_valid_lei(lei[:18] + f"{(int(lei[18:]) + 1) % 100:02d}")


# Printable text: a control character is a problem of its own (tested above).
printable = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30).map(str.strip)
content_values = st.fixed_dictionaries({
    "email": st.tuples(st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?", fullmatch=True),
                       st.from_regex(r"[a-zA-Z]{1,10}\.(org|AC\.uk|Edu)", fullmatch=True)).map("@".join),
    "section": st.sampled_from(v.SECTIONS).map(lambda s: s.upper() if len(s) % 2 else s),
    "department_name": printable,
    "role_title": printable,
    "start_date": st.sampled_from(["", "2001", "2001-02", "2001-02-03"]),
    "end_date": st.sampled_from(["", "2002", "2002-11", "2002-11-30"]),
    "org_name": printable.filter(bool),
    "org_country": st.sampled_from(["gb", "GB", "us", "Au", "de"]),
    "org_city": printable.filter(bool),
    "org_region": printable,
    "disambiguated_organization_identifier": st.integers(0, 32 ** 6 - 1).map(ror_from_number),
    "disambiguation_source": st.sampled_from(["ROR", "ror", "Ror"]),
    "external_id": st.just(""),
    "external_id_type": st.just(""),
    "external_id_url": st.just(""),
    "url": st.sampled_from(["", "https://alpha.example/x?y=1", "http://www.alpha.example"]),
})


@settings(max_examples=100)
@given(content_values)
def test_normalising_is_idempotent_and_the_content_key_is_stable(values):
    fields, errors = v.clean_content(values)
    assert errors == []
    again, errors_again = v.clean_content(fields)
    assert errors_again == [] and again == fields
    assert v.content_key(again) == v.content_key(fields)
    # and through a CSV file and back
    result = v.validate_file(csv_bytes([{v.FIELD_COLUMNS[name]: value for name, value in values.items()}]))
    assert result.problems == [] and result.rows[0].fields == fields
    assert result.rows[0].content_key == v.content_key(fields)


def test_the_content_key_ignores_the_id_and_sees_every_content_field():
    fields, _errors = v.clean_content({v.COLUMN_FIELDS[c]: x for c, x in GOOD.items() if c != "id"})
    key = v.content_key(fields)
    assert len(key) == 64 and v.content_key({**fields, "id": "12"}) == key
    for name in v.CONTENT_FIELDS:
        assert v.content_key({**fields, name: fields[name] + "x"}) != key, name


@settings(max_examples=60)
@given(st.from_regex(v._URL_RE))
def test_every_url_accepted_here_is_accepted_by_the_models_url_field(url):
    """A row saved from a form runs the model's validators too: they must never refuse what a file may hold."""
    from django.core.validators import URLValidator

    if len(url) <= v.MAX_LENGTHS["url"]:
        URLValidator()(url)


@settings(max_examples=60)
@given(st.from_regex(v._EMAIL_RE))
def test_every_email_accepted_here_is_accepted_by_the_models_email_field(email):
    from django.core.validators import validate_email

    normal = v.normalise_email(email)
    if normal is not None:
        validate_email(normal)
