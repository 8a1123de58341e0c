"""Adoption figures: the daily refresh from ORCID's search, and the reads for the pages and the CSV."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from unittest import mock

import pytest

from consortium_hub.billing.charts import bar_chart
from consortium_hub.core.testing import factories as f
from consortium_hub.core.testing.queries import count_queries
from consortium_hub.directory.models import Membership
from consortium_hub.registry import tasks_adoption
from consortium_hub.registry.client import ErrorKind, OrcidApiError
from consortium_hub.registry.models import AdoptionSnapshot, Affiliation
from consortium_hub.registry.selectors import adoption as selectors
from consortium_hub.registry.services import adoption as services
from orcid_emulator import Client, EmulatorServer

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


class FakeSearch:
    """Stands in for OrcidClient's public search: answers from a table of query → count (or error)."""

    def __init__(self, answers):
        self.answers, self.queries = answers, []

    def search_count(self, query):
        self.queries.append(query)
        answer = self.answers.get(query, 0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def search():
    fake = FakeSearch({})
    with mock.patch.object(services, "client_for_organisation", return_value=fake):
        yield fake


def in_orcid(organisation, orcid_id, status=Affiliation.Status.IN_ORCID, *, identifier=None, source="ROR",
             put_code="1"):
    """A row written to `orcid_id`'s record, naming the organisation's own ROR ID unless told otherwise."""
    return Affiliation.objects.create(
        organisation=organisation, email=f"{uuid.uuid4().hex[:8]}@x.example", section="employment",
        org_name="Org", org_country="GB", org_city="London",
        disambiguated_organization_identifier=identifier or f"https://ror.org/{organisation.ror_id}",
        disambiguation_source=source, content_key=uuid.uuid4().hex, status=status, orcid_id=orcid_id,
        put_code=put_code)


def snapshot(organisation, day, total, from_hub=0):
    return AdoptionSnapshot.objects.create(organisation=organisation, taken_on=day, identifier_type="ror",
                                           identifier=f"https://ror.org/{organisation.ror_id}",
                                           records_total=total, records_from_hub=from_hub)


def ror_query(organisation):
    return f'ror-org-id:"https://ror.org/{organisation.ror_id}"'


# --- Refreshing ------------------------------------------------------------------------------------------

def test_refresh_counts_records_by_the_best_identifier_and_the_hubs_own(cast, search):
    ringgold_only = f.MembershipFactory(organisation=f.OrganisationFactory(
        consortium=cast.consortium_a, ror_id="", ringgold_id="12345")).organisation
    grid_only = f.MembershipFactory(organisation=f.OrganisationFactory(
        consortium=cast.consortium_a, ror_id="", grid_id="grid.1234.5")).organisation
    f.MembershipFactory(organisation=f.OrganisationFactory(consortium=cast.consortium_a, ror_id=""))  # nothing
    former = f.MembershipFactory(organisation=f.OrganisationFactory(consortium=cast.consortium_a),
                                 status=Membership.Status.TERMINATED).organisation
    cast.org_a.ringgold_id = "999"  # ROR wins over Ringgold
    cast.org_a.save()
    search.answers = {ror_query(cast.org_a): 120, 'ringgold-org-id:"12345"': 40, 'grid-org-id:"grid.1234.5"': 7,
                      ror_query(cast.org_b): 3}
    a, b = f.valid_orcid(1), f.valid_orcid(2)
    in_orcid(cast.org_a, a)
    in_orcid(cast.org_a, a)  # two affiliations on one record count once
    in_orcid(cast.org_a, b)
    in_orcid(cast.org_a, f.valid_orcid(3), status=Affiliation.Status.PENDING)
    in_orcid(cast.org_b, f.valid_orcid(4))

    saved = services.refresh_adoption(today=DAY)

    figures = {s.organisation_id: (s.identifier_type, s.identifier, s.records_total, s.records_from_hub)
               for s in AdoptionSnapshot.objects.filter(taken_on=DAY)}
    assert figures == {
        cast.org_a.pk: ("ror", f"https://ror.org/{cast.org_a.ror_id}", 120, 2),
        cast.org_a2.pk: ("ror", f"https://ror.org/{cast.org_a2.ror_id}", 0, 0),
        cast.org_b.pk: ("ror", f"https://ror.org/{cast.org_b.ror_id}", 3, 1),
        ringgold_only.pk: ("ringgold", "12345", 40, 0),
        grid_only.pk: ("grid", "grid.1234.5", 7, 0),
    }
    assert saved == 5
    assert ror_query(former) not in search.queries


def test_refreshing_the_same_day_again_replaces_that_days_figures(cast, search):
    search.answers = {ror_query(cast.org_a): 10}
    services.refresh_adoption(today=DAY, organisation_ids=[cast.org_a.pk])
    search.answers = {ror_query(cast.org_a): 11}
    assert services.refresh_adoption(today=DAY, organisation_ids=[cast.org_a.pk]) == 1
    assert list(AdoptionSnapshot.objects.values_list("organisation_id", "records_total")) == [(cast.org_a.pk, 11)]


def test_an_orcid_error_for_one_member_keeps_its_last_figure_and_spares_the_others(cast, search):
    snapshot(cast.org_a, DAY - dt.timedelta(days=1), 100)
    search.answers = {ror_query(cast.org_a): OrcidApiError(ErrorKind.UNAVAILABLE, status=503),
                      ror_query(cast.org_a2): 5, ror_query(cast.org_b): 6}

    assert services.refresh_adoption(today=DAY) == 2

    assert not AdoptionSnapshot.objects.filter(organisation=cast.org_a, taken_on=DAY).exists()
    latest = selectors.adoption_by_organisation(cast["orcid_admin"]).get(organisation=cast.org_a)
    assert latest.records_total == 100
    assert AdoptionSnapshot.objects.filter(taken_on=DAY).count() == 2


def test_the_daily_job_refreshes_once_a_day(cast, search):
    search.answers = {ror_query(cast.org_a): 1}
    with mock.patch.object(tasks_adoption.timezone, "localdate", return_value=DAY):
        assert tasks_adoption.refresh_today() == 3
        asked = len(search.queries)
        assert tasks_adoption.refresh_today() == 0  # a second worker, or the next hourly run
        assert len(search.queries) == asked
    with mock.patch.object(tasks_adoption.timezone, "localdate", return_value=DAY + dt.timedelta(days=2)):
        tasks_adoption.refresh_adoption_figures.call_local()
    # The day in between is not made up: ORCID's search only knows today.
    assert sorted(set(AdoptionSnapshot.objects.values_list("taken_on", flat=True))) == [
        DAY, DAY + dt.timedelta(days=2)]


def _employment(organisation_name, source, identifier):
    return {"organization": {"name": organisation_name, "address": {"city": "London", "country": "GB"},
                             "disambiguated-organization": {"disambiguated-organization-identifier": identifier,
                                                            "disambiguation-source": source}}}


def test_refresh_against_the_emulators_public_search(cast, settings):
    """The real client, ORCID's search as the emulator runs it: records are counted once, by identifier."""
    with EmulatorServer(clients=[Client("APP-MEMBER", "member-secret", name="Hub")]) as orcid:
        for name in ("ORCID_BASE_URL", "ORCID_API_BASE_URL", "ORCID_PUBLIC_API_BASE_URL"):
            setattr(settings, name, orcid.base_url)
        settings.ORCID_MEMBER_CLIENT_ID, settings.ORCID_MEMBER_CLIENT_SECRET = "APP-MEMBER", "member-secret"
        ror = f"https://ror.org/{cast.org_a.ror_id}"
        ada = orcid.state.add_record("Ada", "Lovelace")
        bob = orcid.state.add_record("Bob", "Builder")
        orcid.state.add_affiliation(ada.orcid, "employment", _employment("Alpha University", "ROR", ror))
        orcid.state.add_affiliation(ada.orcid, "education", _employment("Alpha University", "ROR", ror))
        orcid.state.add_affiliation(bob.orcid, "employment", _employment("Alpha University", "ROR", ror))
        orcid.state.add_affiliation(bob.orcid, "employment", _employment(
            "Beta University", "ROR", f"https://ror.org/{cast.org_b.ror_id}"))
        in_orcid(cast.org_a, ada.orcid)

        assert services.refresh_adoption(today=DAY, organisation_ids=[cast.org_a.pk, cast.org_b.pk]) == 2

    figures = dict(AdoptionSnapshot.objects.values_list("organisation_id", "records_total"))
    assert figures == {cast.org_a.pk: 2, cast.org_b.pk: 1}
    assert AdoptionSnapshot.objects.get(organisation=cast.org_a).records_from_hub == 1


def test_the_hubs_figure_counts_records_on_which_it_named_the_searched_identifier(cast, search):
    Status = Affiliation.Status
    search.answers = {ror_query(cast.org_a): 50}
    ids = [f.valid_orcid(n) for n in range(10, 18)]
    in_orcid(cast.org_a, ids[0])
    in_orcid(cast.org_a, ids[0], status=Status.PENDING_UPDATE)  # a second item on the same record
    in_orcid(cast.org_a, ids[1], status=Status.PENDING_UPDATE)  # still on the record while it is updated
    in_orcid(cast.org_a, ids[2], status=Status.PENDING_DELETE)  # still on the record until the delete is done
    in_orcid(cast.org_a, ids[3], status=Status.PENDING_DELETE, put_code="")  # never reached the record
    in_orcid(cast.org_a, ids[4], status=Status.PENDING)
    in_orcid(cast.org_a, ids[5], identifier=f"https://ror.org/{cast.org_b.ror_id}")  # another organisation
    in_orcid(cast.org_a, ids[6], identifier="12345", source="RINGGOLD")  # not what ORCID is searched by
    in_orcid(cast.org_a, ids[7], identifier="grid.1234.5", source="GRID")

    services.refresh_adoption(today=DAY, organisation_ids=[cast.org_a.pk])

    assert AdoptionSnapshot.objects.get(organisation=cast.org_a).records_from_hub == 3


def test_the_hubs_figure_never_exceeds_what_orcid_finds(cast, search):
    # Items the hub wrote with private visibility are on the records but not in the public search.
    search.answers = {ror_query(cast.org_a): 1}
    in_orcid(cast.org_a, f.valid_orcid(1))
    in_orcid(cast.org_a, f.valid_orcid(2))

    services.refresh_adoption(today=DAY, organisation_ids=[cast.org_a.pk])

    snapshot_ = AdoptionSnapshot.objects.get(organisation=cast.org_a)
    assert (snapshot_.records_total, snapshot_.records_from_hub) == (1, 1)


def test_the_hubs_figure_of_a_ringgold_or_grid_member_counts_rows_naming_that_identifier(cast, search):
    ringgold = f.MembershipFactory(organisation=f.OrganisationFactory(
        consortium=cast.consortium_a, ror_id="", ringgold_id="12345")).organisation
    grid = f.MembershipFactory(organisation=f.OrganisationFactory(
        consortium=cast.consortium_a, ror_id="", grid_id="grid.1234.5")).organisation
    search.answers = {'ringgold-org-id:"12345"': 9, 'grid-org-id:"grid.1234.5"': 9}
    in_orcid(ringgold, f.valid_orcid(1), identifier="12345", source="RINGGOLD")
    in_orcid(ringgold, f.valid_orcid(2), identifier="54321", source="RINGGOLD")
    in_orcid(grid, f.valid_orcid(3), identifier="grid.1234.5", source="GRID")
    in_orcid(grid, f.valid_orcid(4), identifier="grid.1234.5", source="RINGGOLD")

    services.refresh_adoption(today=DAY, organisation_ids=[ringgold.pk, grid.pk])

    assert dict(AdoptionSnapshot.objects.values_list("organisation_id", "records_from_hub")) == {
        ringgold.pk: 1, grid.pk: 1}


def test_search_queries_quote_the_identifier():
    assert services.search_query("ror", "https://ror.org/02mhbdp94") == 'ror-org-id:"https://ror.org/02mhbdp94"'
    assert services.search_query("ringgold", "1234") == 'ringgold-org-id:"1234"'
    assert services.search_query("grid", 'grid."x') == 'grid-org-id:"grid.\\"x"'


# --- Reading ---------------------------------------------------------------------------------------------

def _history(cast):
    for day, a, a2, b in ((DAY - dt.timedelta(days=2), 10, 5, 1), (DAY - dt.timedelta(days=1), 12, None, 2),
                          (DAY, 15, 9, 2)):
        snapshot(cast.org_a, day, a, from_hub=a // 5)
        if a2 is not None:
            snapshot(cast.org_a2, day, a2)
        snapshot(cast.org_b, day, b)


def test_latest_figures_per_member_with_the_change_since_the_previous_one(cast):
    _history(cast)
    newcomer = f.MembershipFactory(organisation=f.OrganisationFactory(consortium=cast.consortium_a,
                                                                      legal_name="Zeta College")).organisation
    snapshot(newcomer, DAY, 4)

    rows = list(selectors.adoption_by_organisation(cast["lead_admin_a"]))

    assert [(r.organisation.legal_name, r.taken_on, r.records_total, r.previous_total, r.change) for r in rows] == [
        ("Alpha Institute", DAY, 9, 5, 4),
        ("Alpha University", DAY, 15, 12, 3),
        ("Zeta College", DAY, 4, None, None),
    ]
    assert rows[1].previous_taken_on == DAY - dt.timedelta(days=1) and rows[1].records_from_hub == 3


def test_each_person_sees_the_figures_of_their_own_scope(cast):
    _history(cast)

    def members(user, **kwargs):
        return sorted(r.organisation_id for r in selectors.adoption_by_organisation(user, **kwargs))

    assert members(cast["orcid_admin"]) == sorted([cast.org_a.pk, cast.org_a2.pk, cast.org_b.pk])
    assert members(cast["orcid_admin"], consortium_id=cast.consortium_b.pk) == [cast.org_b.pk]
    # An engagement lead follows the consortia they look after.
    assert members(cast["engagement_lead"]) == sorted([cast.org_a.pk, cast.org_a2.pk])
    assert members(cast["lead_admin_a"]) == sorted([cast.org_a.pk, cast.org_a2.pk])
    assert members(cast["member_contact_a"]) == [cast.org_a.pk]
    assert members(cast["lead_admin_b"], consortium_id=cast.consortium_a.pk) == []
    assert members(None) == []


def test_latest_figures_take_one_query_however_many_members(cast):
    _history(cast)
    list(selectors.adoption_by_organisation(cast["orcid_admin"]))  # loads the user's access scope once
    _result, few = count_queries(lambda: list(selectors.adoption_by_organisation(cast["orcid_admin"])))
    for n in range(30):
        organisation = f.OrganisationFactory(consortium=cast.consortium_a)
        snapshot(organisation, DAY - dt.timedelta(days=1), n)
        snapshot(organisation, DAY, n + 1)
    rows, many = count_queries(lambda: [(r.organisation.legal_name, r.organisation.consortium.name, r.change)
                                        for r in selectors.adoption_by_organisation(cast["orcid_admin"])])
    assert len(rows) == 33 and len(many) == len(few) == 1


def test_totals_over_time_carry_a_members_last_figure_over_a_missed_day(cast):
    _history(cast)

    points = selectors.adoption_over_time(cast["lead_admin_a"], consortium_id=cast.consortium_a.pk)

    assert [(p.day, p.records_total, p.records_from_hub, p.organisations) for p in points] == [
        (DAY - dt.timedelta(days=2), 15, 2, 2),
        (DAY - dt.timedelta(days=1), 17, 2, 2),  # Alpha Institute's refresh failed: its 5 still counts
        (DAY, 24, 3, 2),
    ]
    since = selectors.adoption_over_time(cast["orcid_admin"], consortium_id=cast.consortium_a.pk, since=DAY)
    assert [(p.day, p.records_total) for p in since] == [(DAY, 24)]
    until = selectors.adoption_over_time(cast["orcid_admin"], consortium_id=cast.consortium_a.pk,
                                         until=DAY - dt.timedelta(days=1))
    assert [p.records_total for p in until] == [15, 17]
    mine = selectors.adoption_over_time(cast["member_contact_a"], consortium_id=cast.consortium_a.pk)
    assert [p.records_total for p in mine] == [10, 12, 15]
    assert selectors.adoption_over_time(cast["lead_admin_b"], consortium_id=cast.consortium_a.pk) == []


def test_totals_over_time_are_shaped_for_the_bar_chart(cast):
    _history(cast)
    points = selectors.adoption_over_time(cast["orcid_admin"], consortium_id=cast.consortium_a.pk)

    bars = selectors.adoption_chart_bars(points)

    assert bars[-1] == (DAY.isoformat(), Decimal(24), "24")
    assert selectors.adoption_chart_bars(points, from_hub=True)[-1][1] == Decimal(3)
    svg = bar_chart(title="ORCID records affiliated", bars=bars)
    assert DAY.isoformat() in svg and "<svg" in svg


def test_csv_rows_list_every_visible_snapshot(cast):
    _history(cast)
    cast.org_a.public_name = "Alpha"
    cast.org_a.save()

    rows = list(selectors.adoption_csv_rows(cast["member_contact_a"]))

    assert rows[0] == selectors.CSV_HEADER
    assert rows[1:] == [["Consortium A", "Alpha", "ror", f"https://ror.org/{cast.org_a.ror_id}", day.isoformat(),
                         str(total), str(total // 5)]
                        for day, total in ((DAY - dt.timedelta(days=2), 10), (DAY - dt.timedelta(days=1), 12),
                                           (DAY, 15))]
    everything = list(selectors.adoption_csv_rows(cast["orcid_admin"], since=DAY))
    assert len(everything) == 1 + 3
    only_b = list(selectors.adoption_csv_rows(cast["orcid_admin"], consortium_id=cast.consortium_b.pk))
    assert {row[0] for row in only_b[1:]} == {"Consortium B"}
    assert list(selectors.adoption_csv_rows(cast["lead_admin_b"], organisation_id=cast.org_a.pk)) == [
        selectors.CSV_HEADER]
