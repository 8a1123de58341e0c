"""Pure parts: partial dates, body normalisation, media negotiation and the XML mapping."""

from __future__ import annotations

import calendar
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orcid_emulator import PartialDate, normalize_affiliation
from orcid_emulator.affiliations import dates_in_order, disambiguated_org, normalize_org_identifier, self_external_ids
from orcid_emulator.errors import InvalidAffiliation
from orcid_emulator.media import JSON, XML, XmlShape, body_format, from_xml, negotiate, to_xml

from .support import affiliation_body


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    year = draw(st.integers(min_value=1, max_value=9999))
    if not draw(st.booleans()):
        return PartialDate(year)
    month = draw(st.integers(min_value=1, max_value=12))
    if not draw(st.booleans()):
        return PartialDate(year, month)
    return PartialDate(year, month, draw(st.integers(min_value=1, max_value=calendar.monthrange(year, month)[1])))


@given(partial_dates())
def test_partial_date_round_trips(date: PartialDate) -> None:
    assert PartialDate.from_orcid(date.to_orcid()) == date
    assert PartialDate.parse(str(date)) == date
    assert dates_in_order(date, date)


@given(partial_dates(), partial_dates())
def test_order_is_consistent_with_full_dates(start: PartialDate, end: PartialDate) -> None:
    depth = min(start.precision, end.precision)
    start_key = (start.year, start.month or 0, start.day or 0)[:depth]
    end_key = (end.year, end.month or 0, end.day or 0)[:depth]
    assert dates_in_order(start, end) == (start_key <= end_key)
    # Either order is acceptable, or the two are equal as far as both go.
    assert dates_in_order(start, end) or dates_in_order(end, start)


@given(
    st.integers(min_value=1, max_value=9999),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=29, max_value=31),
)
def test_day_beyond_month_end_is_refused(year: int, month: int, day: int) -> None:
    valid = day <= calendar.monthrange(year, month)[1]
    body = {"year": {"value": f"{year:04d}"}, "month": {"value": f"{month:02d}"}, "day": {"value": f"{day:02d}"}}
    if valid:
        assert PartialDate.from_orcid(body).day == day
    else:
        with pytest.raises(InvalidAffiliation):
            PartialDate.from_orcid(body)


@pytest.mark.parametrize("text", ["", "20", "2020-1", "2020-01-1", "2020/01/01", "2020-13", "2020-02-30", "0000"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidAffiliation):
        PartialDate.parse(text)


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [("2020-05", "2020", True), ("2020", "2019-12", False), ("2020-05-02", "2020-05-01", False),
     ("2020-05-01", "2020-05", True), ("1999-12-31", "2000-01-01", True)],
)  # fmt: skip
def test_dates_in_order_examples(start: str, end: str, ok: bool) -> None:
    assert dates_in_order(PartialDate.parse(start), PartialDate.parse(end)) is ok


def test_normalized_body_is_canonical_and_idempotent() -> None:
    fields = normalize_affiliation(affiliation_body())
    assert list(fields) == ["department-name", "role-title", "start-date", "end-date", "organization", "url",
                            "external-ids"]  # fmt: skip
    assert normalize_affiliation(fields) == fields
    assert normalize_affiliation(json.loads(json.dumps(fields))) == fields
    assert self_external_ids(fields) == {("grant_number", "EP/X000001/1")}
    assert disambiguated_org(fields) == ("ROR", "052gg0110")


@pytest.mark.parametrize(
    ("source", "raw", "normalized"),
    [("ROR", "https://ror.org/052GG0110", "052gg0110"), ("ROR", "ror.org/052gg0110", "052gg0110"),
     ("ROR", " 052gg0110 ", "052gg0110"), ("GRID", "GRID.4991.5", "grid.4991.5"), ("RINGGOLD", "6396", "6396")],
)  # fmt: skip
def test_org_identifier_normalisation(source: str, raw: str, normalized: str) -> None:
    assert normalize_org_identifier(source, raw) == normalized


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON), ("", JSON), ("*/*", JSON), ("application/JSON", JSON), ("application/xml", XML),
        ("application/vnd.orcid+xml; q=0.9, application/json; q=0.8", XML),
        ("application/json;q=0.5, application/xml;q=0.5", JSON),
        ("application/xml;q=bad, application/json", JSON),
    ],
)  # fmt: skip
def test_negotiate(accept: str | None, expected: str) -> None:
    media = negotiate(accept)
    assert media is not None and media.format == expected


def test_negotiate_refuses() -> None:
    assert negotiate("text/html") is None
    assert negotiate("application/xml;q=0, text/plain") is None


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("application/vnd.orcid+json; charset=utf-8", JSON), ("application/orcid+xml", XML), ("text/xml", None),
     (None, None), ("", None)],
)  # fmt: skip
def test_body_format(content_type: str | None, expected: str | None) -> None:
    assert body_format(content_type) == expected


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s
)


@given(
    department=texts,
    city=texts,
    date=partial_dates(),
    ids=st.lists(st.tuples(texts, texts, st.sampled_from(["self", "part-of"])), max_size=3),
)
def test_xml_mapping_round_trips_affiliations(department: str, city: str, date: PartialDate, ids: list[Any]) -> None:
    body = normalize_affiliation(
        {
            "department-name": department,
            "start-date": date.to_orcid(),
            "organization": {"name": "Org", "address": {"city": city, "country": "GB"}},
            "external-ids": {"external-id": [
                {"external-id-type": t, "external-id-value": v, "external-id-relationship": r} for t, v, r in ids
            ]},
        }
    )  # fmt: skip
    root, parsed = from_xml(to_xml({"put-code": 7, **body}, XmlShape(root="employment", prefix="employment")))
    assert root == "employment"
    assert parsed["put-code"] == 7
    assert normalize_affiliation(parsed) == body
