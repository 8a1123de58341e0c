"""The affiliation writer against the bundled ORCID emulator: adds, updates, deletes, and what happens when
the researcher revokes access, deactivates or deletes their record; plus scoping by client, the upload
summary, the job wiring and the per-row query cost.

Fixtures and helpers here are shared with test_faults.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.testing.factories import ConsortiumFactory, OrganisationFactory, UserFactory, valid_ror
from consortium_hub.registry import client as client_module
from consortium_hub.registry.models import (
    Affiliation,
    AffiliationUpload,
    OrcidApiCall,
    OrcidGrant,
    RegistryClient,
    WriterLease,
)
from consortium_hub.registry.services import summary, sync
from orcid_emulator import Client, EmulatorServer, SigningKey

pytestmark = pytest.mark.django_db

CLIENT_ID = "APP-HUBTESTCLIENT01"
CLIENT_SECRET = "hub-test-secret"
REDIRECT = "http://testserver/orcid/permission/callback/"
WRITE_SCOPES = ["/read-limited", "/activities/update"]
Status = Affiliation.Status
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
_serial = itertools.count(1)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()  # RSA generation is the slow part of starting an emulator


@pytest.fixture
def orcid(settings: Any, signing_key: SigningKey) -> Iterator[EmulatorServer]:
    """A running emulator (no rate limit, no records) that the hub's settings point at."""
    hub = Client(CLIENT_ID, CLIENT_SECRET, [REDIRECT], name="Consortium Hub")
    with EmulatorServer(clients=[hub], records=[], signing_key=signing_key, rate_limit=None) as server:
        settings.ORCID_BASE_URL = settings.ORCID_API_BASE_URL = server.base_url
        settings.ORCID_PUBLIC_API_BASE_URL = server.base_url
        settings.ORCID_MEMBER_CLIENT_ID = CLIENT_ID
        settings.ORCID_MEMBER_CLIENT_SECRET = CLIENT_SECRET
        # Fast for tests; the rate itself is tested in test_client.py and measured by the benchmark.
        settings.ORCID_RATE_PER_SECOND = 1000
        yield server
    client_module._limiters.clear()


class Clock:
    """The writer's wall clock, moved by the test instead of waiting."""

    def __init__(self, at: dt.datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def researcher(orcid: EmulatorServer, organisation: Any, email: str | None = None, *,
               client_id: str = CLIENT_ID) -> OrcidGrant:
    """A record in the emulator, and the organisation's grant holding a real token for it."""
    n = next(_serial)
    email = email or f"researcher{n}@example.org"
    record = orcid.state.add_record(f"Researcher{n}", "Tester", email)
    token = orcid.state.issue_token(client_id, record.orcid, WRITE_SCOPES)
    return OrcidGrant.objects.create(organisation=organisation, email=email, orcid_id=record.orcid,
                                     status=OrcidGrant.Status.GRANTED, access_token=token.access_token,
                                     refresh_token=token.refresh_token, scope=" ".join(WRITE_SCOPES),
                                     client_id=client_id, granted_at=NOW)


def make_row(organisation: Any, email: str, **fields: Any) -> Affiliation:
    n = next(_serial)
    values = {
        "section": "employment", "department_name": "Chemistry", "role_title": f"Lecturer {n}",
        "start_date": "2021-09", "org_name": organisation.legal_name, "org_country": "GB", "org_city": "Leeds",
        "disambiguated_organization_identifier": valid_ror(n), "disambiguation_source": "ROR",
        "content_key": uuid.uuid4().hex, "status": Status.PENDING,
    }
    values.update(fields)
    return Affiliation.objects.create(organisation=organisation, email=email, **values)


def items(orcid: EmulatorServer, grant: OrcidGrant, section: str = "employment") -> list[Any]:
    return orcid.state.affiliations(grant.orcid_id, section)


def refreshed(*rows: Affiliation) -> list[Affiliation]:
    for row in rows:
        row.refresh_from_db()
    return list(rows)


def write(organisation: Any, clock: Clock, **options: Any) -> sync.WriterResult:
    return sync.run_writer(organisation_id=organisation.pk, clock=clock, **options)


# --- Adding, updating, deleting --------------------------------------------------------------------------

def test_a_pending_row_is_added_to_the_record(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email, end_date="2024-06-30", org_region="West Yorkshire",
                   external_id="E-7", external_id_type="employee-id", url="https://example.org/people/7")

    result = write(organisation, clock)

    row.refresh_from_db()
    (item,) = items(orcid, grant)
    assert (row.status, row.put_code, row.orcid_id) == (Status.IN_ORCID, str(item.put_code), grant.orcid_id)
    assert (row.last_synced_at, row.write_started_at, row.orcid_error, row.attempts) == (NOW, None, "", 0)
    assert item.source_client_id == CLIENT_ID
    stored = item.to_dict()["fields"]
    assert stored["role-title"] == row.role_title and stored["organization"]["name"] == organisation.legal_name
    assert stored["end-date"] == {"year": {"value": "2024"}, "month": {"value": "06"}, "day": {"value": "30"}}
    assert result.outcomes == {Status.IN_ORCID: 1} and result.processed == 1
    # The status change is in the row's history, written by the one audit receiver.
    assert ChangeRecord.objects.filter(object_id=str(row.pk), after__status=Status.IN_ORCID).exists()


def test_an_edited_row_is_updated_in_place(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    write(organisation, clock)
    row.refresh_from_db()
    put_code = row.put_code

    row.role_title, row.status = "Professor of Chemistry", Status.PENDING_UPDATE
    row.save()
    write(organisation, clock)

    row.refresh_from_db()
    (item,) = items(orcid, grant)
    assert (row.status, row.put_code, str(item.put_code)) == (Status.IN_ORCID, put_code, put_code)
    assert item.to_dict()["fields"]["role-title"] == "Professor of Chemistry"


def test_a_row_holding_a_put_code_is_never_added_again(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    write(organisation, clock)
    row.refresh_from_db()
    row.status = Status.PENDING  # e.g. re-released after a new grant on the same record
    row.save()

    write(organisation, clock)

    assert len(items(orcid, grant)) == 1
    assert refreshed(row)[0].status == Status.IN_ORCID
    assert list(OrcidApiCall.objects.order_by("pk").values_list("method", flat=True)) == ["POST", "PUT"]


def test_a_pending_delete_removes_the_item(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email, section="education")
    write(organisation, clock)
    row.refresh_from_db()
    assert len(items(orcid, grant, "education")) == 1

    row.status = Status.PENDING_DELETE
    row.save()
    write(organisation, clock)

    assert refreshed(row)[0].status == Status.DELETED
    assert items(orcid, grant, "education") == []


def test_a_delete_of_a_row_that_never_reached_orcid_needs_no_call_and_no_grant(orcid, clock):
    organisation = OrganisationFactory()
    row = make_row(organisation, "nobody-granted@example.org", status=Status.PENDING_DELETE)
    write(organisation, clock)
    assert refreshed(row)[0].status == Status.DELETED
    assert not OrcidApiCall.objects.exists()


def test_an_item_the_researcher_removed_is_reported_on_update_and_done_on_delete(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    edited, removed = make_row(organisation, grant.email), make_row(organisation, grant.email)
    write(organisation, clock)
    for row in refreshed(edited, removed):
        orcid.state.delete_affiliation(grant.orcid_id, "employment", int(row.put_code), client_id=CLIENT_ID)
    edited.status, removed.status = Status.PENDING_UPDATE, Status.PENDING_DELETE
    edited.save()
    removed.save()

    write(organisation, clock)

    edited, removed = refreshed(edited, removed)
    assert edited.status == Status.USER_DELETED and "put-code" in edited.orcid_error
    # The record is still there (the writer looked): the put-code named the item the researcher removed.
    assert edited.put_code == ""
    assert removed.status == Status.DELETED


def test_a_row_edited_after_the_researcher_removed_its_item_is_added_again(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    write(organisation, clock)
    row.refresh_from_db()
    orcid.state.delete_affiliation(grant.orcid_id, "employment", int(row.put_code), client_id=CLIENT_ID)
    row.status = Status.PENDING_UPDATE
    row.save()
    write(organisation, clock)
    row.refresh_from_db()
    assert (row.status, row.put_code) == (Status.USER_DELETED, "")

    # The member edits the row again: as services/affiliations.py does, a row without a put-code is pending.
    row.role_title, row.status = "Reader", Status.PENDING
    row.save()
    write(organisation, clock)

    row.refresh_from_db()
    (item,) = items(orcid, grant)
    assert (row.status, row.put_code) == (Status.IN_ORCID, str(item.put_code))
    assert item.to_dict()["fields"]["role-title"] == "Reader"


def test_an_update_to_a_deleted_record_is_user_deleted_and_keeps_its_put_code(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    write(organisation, clock)
    row.refresh_from_db()
    put_code = row.put_code
    orcid.state.delete_record(grant.orcid_id)
    row.status = Status.PENDING_UPDATE
    row.save()

    write(organisation, clock)

    row.refresh_from_db()
    assert (row.status, row.put_code) == (Status.USER_DELETED, put_code)
    assert grant.orcid_id in row.orcid_error  # ORCID's word on the record, from the record-level check


def test_rows_without_permission_are_left_alone(orcid, clock):
    organisation = OrganisationFactory()
    denied = researcher(orcid, organisation)
    denied.status = OrcidGrant.Status.DENIED
    denied.save()
    waiting = make_row(organisation, "no-grant-yet@example.org", status=Status.PENDING)
    refused = make_row(organisation, denied.email)
    asked = make_row(organisation, "asked@example.org", status=Status.NOTIFICATION_SENT)

    result = write(organisation, clock)

    assert [row.status for row in refreshed(waiting, refused, asked)] == [
        Status.PENDING, Status.PENDING, Status.NOTIFICATION_SENT]
    assert result.processed == 0 and not OrcidApiCall.objects.exists()


def test_the_grant_is_found_whatever_the_case_of_the_email(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation, "ada.lovelace@example.org")
    row = make_row(organisation, "Ada.Lovelace@Example.org")
    write(organisation, clock)
    assert refreshed(row)[0].status == Status.IN_ORCID
    assert len(items(orcid, grant)) == 1


# --- The researcher's side: revoked, deactivated, deleted -----------------------------------------------

def test_a_revoked_token_keeps_pending_deletes_which_are_sent_after_a_new_grant(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    kept, removing = make_row(organisation, grant.email), make_row(organisation, grant.email)
    write(organisation, clock)
    removing.refresh_from_db()
    removing.status = Status.PENDING_DELETE
    removing.save()
    orcid.state.revoke_grants(grant.orcid_id)

    result = write(organisation, clock)

    grant.refresh_from_db()
    kept, removing = refreshed(kept, removing)
    assert grant.status == OrcidGrant.Status.REVOKED and result.grants_revoked == 1
    assert kept.status == Status.USER_REVOKED_ACCESS
    # The member asked for the item to go: that request waits for the researcher's permission.
    assert removing.status == Status.PENDING_DELETE and removing.put_code
    assert write(organisation, clock).processed == 0  # not due without a grant

    token = orcid.state.issue_token(CLIENT_ID, grant.orcid_id, WRITE_SCOPES)
    grant.status, grant.access_token = OrcidGrant.Status.GRANTED, token.access_token
    grant.save()
    write(organisation, clock)

    assert refreshed(removing)[0].status == Status.DELETED
    assert [str(item.put_code) for item in items(orcid, grant)] == [kept.put_code]
    assert list(OrcidApiCall.objects.order_by("pk").values_list("method", flat=True)) == [
        "POST", "POST", "DELETE", "DELETE"]


def test_a_revoked_grant_marks_every_live_row_of_that_researcher(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    other = researcher(orcid, organisation)
    written, gone = make_row(organisation, grant.email), make_row(organisation, grant.email)
    write(organisation, clock)
    gone.refresh_from_db()
    gone.status = Status.DELETED
    gone.save()
    orcid.state.revoke_grants(grant.orcid_id)
    new_row = make_row(organisation, grant.email)
    unaffected = make_row(organisation, other.email)

    result = write(organisation, clock)

    grant.refresh_from_db()
    assert (grant.status, grant.revoked_at) == (OrcidGrant.Status.REVOKED, NOW)
    written, gone, new_row, unaffected = refreshed(written, gone, new_row, unaffected)
    assert (written.status, new_row.status) == (Status.USER_REVOKED_ACCESS, Status.USER_REVOKED_ACCESS)
    assert gone.status == Status.DELETED
    assert unaffected.status == Status.IN_ORCID
    assert result.grants_revoked == 1
    # Only one call learnt of the revocation: the researcher's other row was not tried again.
    assert OrcidApiCall.objects.filter(status_code=401).count() == 1


def test_a_deactivated_record_is_reported(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    orcid.state.deactivate_record(grant.orcid_id)
    write(organisation, clock)
    row.refresh_from_db()
    assert row.status == Status.RECORD_DEACTIVATED and "deactivated" in row.orcid_error


def test_a_deleted_record_is_reported_as_user_deleted(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    orcid.state.delete_record(grant.orcid_id)
    write(organisation, clock)
    assert refreshed(row)[0].status == Status.USER_DELETED


@pytest.mark.parametrize(("prepare", "fragment"), [
    (lambda state, orcid_id: state.lock_record(orcid_id), "locked"),
    (lambda state, orcid_id: state.set_record_status(orcid_id, claimed=False), "claimed"),
])
def test_other_refusals_are_errors_with_orcids_message(orcid, clock, prepare, fragment):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    prepare(orcid.state, grant.orcid_id)
    write(organisation, clock)
    row.refresh_from_db()
    assert row.status == Status.ERROR_ADDING and fragment in row.orcid_error
    assert row.write_started_at is None  # ORCID refused: nothing to reconcile


def test_a_body_orcid_refuses_is_an_error_adding(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email, start_date="2024", end_date="2020")
    write(organisation, clock)
    row.refresh_from_db()
    assert row.status == Status.ERROR_ADDING and "after end-date" in row.orcid_error


# --- Which rows one run takes ---------------------------------------------------------------------------

def test_a_run_writes_for_every_organisation_sharing_the_client_and_no_other(orcid, clock):
    hub_a, hub_b = OrganisationFactory(), OrganisationFactory()
    own = ConsortiumFactory()
    RegistryClient.objects.create(consortium=own, client_id="APP-THEIROWNCLIENT1", client_secret="theirs")
    orcid.state.register_client("APP-THEIROWNCLIENT1", "theirs")
    theirs = OrganisationFactory(consortium=own)
    row_a = make_row(hub_a, researcher(orcid, hub_a).email)
    row_b = make_row(hub_b, researcher(orcid, hub_b).email)
    row_theirs = make_row(theirs, researcher(orcid, theirs, client_id="APP-THEIROWNCLIENT1").email)

    write(hub_a, clock)
    assert [r.status for r in refreshed(row_a, row_b, row_theirs)] == [Status.IN_ORCID, Status.IN_ORCID,
                                                                        Status.PENDING]
    assert set(OrcidApiCall.objects.values_list("organisation_id", flat=True)) == {hub_a.pk, hub_b.pk}

    write(theirs, clock)
    assert refreshed(row_theirs)[0].status == Status.IN_ORCID
    (item,) = orcid.state.affiliations(refreshed(row_theirs)[0].orcid_id)
    assert item.source_client_id == "APP-THEIROWNCLIENT1"


def test_a_second_worker_for_the_same_client_stands_aside(orcid, clock):
    organisation = OrganisationFactory()
    row = make_row(organisation, researcher(orcid, organisation).email)
    lease = sync.acquire_lease(CLIENT_ID, 60)
    assert lease is not None
    try:
        result = write(organisation, clock)
        assert result.locked and result.processed == 0
        assert refreshed(row)[0].status == Status.PENDING
    finally:
        sync.release_lease(CLIENT_ID, lease)
    assert write(organisation, clock).outcomes == {Status.IN_ORCID: 1}


def test_a_lease_its_holder_outlived_is_taken_over(orcid):
    stale = sync.acquire_lease(CLIENT_ID, -1)  # expired the moment it was taken: its worker was killed
    assert stale is not None
    fresh = sync.acquire_lease(CLIENT_ID, 60)
    assert fresh is not None and fresh != stale
    assert sync.acquire_lease(CLIENT_ID, 60) is None
    sync.release_lease(CLIENT_ID, stale)  # a late release by the dead worker does not free the new lease
    assert sync.acquire_lease(CLIENT_ID, 60) is None
    sync.release_lease(CLIENT_ID, fresh)


@pytest.mark.parametrize("cut_in", ["before", "after"])
def test_a_stale_lease_goes_to_exactly_one_of_two_contenders(cut_in):
    sync.acquire_lease(CLIENT_ID, -1)  # its worker was killed
    taken: dict[str, str | None] = {}

    def second_contender(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Runs a whole second acquisition just before (or after) the first contender's first statement."""
        if "second" in taken:
            return execute(sql, params, many, context)
        taken["second"] = None
        if cut_in == "before":
            taken["second"] = sync.acquire_lease(CLIENT_ID, 60)
            return execute(sql, params, many, context)
        outcome = execute(sql, params, many, context)
        taken["second"] = sync.acquire_lease(CLIENT_ID, 60)
        return outcome

    with connection.execute_wrapper(second_contender):
        taken["first"] = sync.acquire_lease(CLIENT_ID, 60)

    winners = [token for token in taken.values() if token is not None]
    assert len(winners) == 1, taken
    assert WriterLease.objects.get(client_id=CLIENT_ID).holder == winners[0]
    sync.release_lease(CLIENT_ID, winners[0])
    assert not WriterLease.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stale_lease_goes_to_exactly_one_of_many_threads():
    contenders = 8
    for _ in range(20):  # the threads meet at a barrier; repeated, the interleavings differ
        stale = sync.acquire_lease(CLIENT_ID, -1)
        assert stale is not None
        barrier = threading.Barrier(contenders)
        tokens: list[str | None] = []
        errors: list[BaseException] = []

        def contend() -> None:
            try:
                barrier.wait(timeout=10)
                tokens.append(sync.acquire_lease(CLIENT_ID, 60))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                connections.close_all()  # this thread's connection

        threads = [threading.Thread(target=contend) for _ in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors and len(tokens) == contenders
        winners = [token for token in tokens if token is not None]
        assert len(winners) == 1, tokens
        assert WriterLease.objects.get(client_id=CLIENT_ID).holder == winners[0]
        sync.release_lease(CLIENT_ID, winners[0])


def test_the_time_budget_stops_a_run_and_it_enqueues_itself(orcid, clock, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(5)]
    ticks = itertools.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # Each look at the monotonic clock is a second later; a 2.5 s budget leaves room for 3 rows.
        result = write(organisation, clock, time_budget_seconds=2.5, monotonic=lambda: float(next(ticks)))

    assert result.more_due and result.processed == 3
    assert len(callbacks) == 1  # the run enqueued its successor, which (inline here) wrote the rest
    assert {row.status for row in refreshed(*rows)} == {Status.IN_ORCID}
    assert len(items(orcid, grant)) == 5


def test_batches_follow_one_another_until_nothing_is_due(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(7)]
    result = write(organisation, clock, batch_size=3)
    assert result.processed == 7 and {r.status for r in refreshed(*rows)} == {Status.IN_ORCID}


def test_at_full_rate_each_outcome_is_committed_while_waiting_for_the_next_slot(orcid, clock, monkeypatch):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(4)]
    orcid_client = client_module.client_for_organisation(organisation)
    ticks = FakeMonotonic()
    orcid_client.limiter = client_module.RateLimiter(20, clock=ticks, sleeper=ticks.sleep)
    real_add = client_module.OrcidClient.add_affiliation
    stored_before_each_post = []

    def add(self: Any, *args: Any, **kwargs: Any) -> str:
        stored_before_each_post.append(Affiliation.objects.filter(status=Status.IN_ORCID).count())
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(client_module.OrcidClient, "add_affiliation", add)
    write(organisation, clock, client=orcid_client)

    # 1/20 s between calls leaves time to commit: each row is stored before the next is sent.
    assert stored_before_each_post == [0, 1, 2, 3]
    assert {row.status for row in refreshed(*rows)} == {Status.IN_ORCID}


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_scheduling_runs_the_job_after_commit(orcid, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    row = make_row(organisation, researcher(orcid, organisation).email)
    with django_capture_on_commit_callbacks(execute=True):
        sync.schedule_writes(organisation_id=organisation.pk)
        assert refreshed(row)[0].status == Status.PENDING  # nothing before the commit
    row.refresh_from_db()
    assert row.status == Status.IN_ORCID
    # The job's changes are audited as the job's.
    assert ChangeRecord.objects.filter(object_id=str(row.pk), via="job:write_affiliations").exists()


def test_the_sweep_starts_one_writer_per_client_with_due_rows(orcid, clock, django_capture_on_commit_callbacks):
    hub_a, hub_b = OrganisationFactory(), OrganisationFactory()
    own = ConsortiumFactory()
    RegistryClient.objects.create(consortium=own, client_id="APP-THEIROWNCLIENT1", client_secret="theirs")
    orcid.state.register_client("APP-THEIROWNCLIENT1", "theirs")
    theirs = OrganisationFactory(consortium=own)
    make_row(hub_a, researcher(orcid, hub_a).email)
    make_row(hub_b, researcher(orcid, hub_b).email)
    make_row(theirs, researcher(orcid, theirs, client_id="APP-THEIROWNCLIENT1").email)
    # The jobs the sweep starts run on the real clock, so "not yet due" is relative to it.
    later = make_row(hub_a, researcher(orcid, hub_a).email, status=Status.PENDING_RETRY,
                     next_attempt_at=timezone.now() + dt.timedelta(hours=1))
    make_row(hub_b, "waiting@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        started = sync.sweep_due_writes()

    assert sorted(started) == sorted([hub_a.pk, theirs.pk])
    assert Affiliation.objects.filter(status=Status.IN_ORCID).count() == 3
    # The retry not yet due was not taken... until its time comes.
    assert refreshed(later)[0].status == Status.PENDING_RETRY


# --- The upload summary ---------------------------------------------------------------------------------

def test_the_uploader_gets_one_summary_when_every_row_of_the_upload_is_done(orcid, clock,
                                                                           django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(legal_name="Alpha University")
    uploader = UserFactory(email="uploader@alpha.example")
    upload = AffiliationUpload.objects.create(organisation=organisation, filename="staff-2026.csv",
                                              uploaded_by=uploader, applied_at=NOW)
    grant = researcher(orcid, organisation)
    deactivated = researcher(orcid, organisation)
    orcid.state.deactivate_record(deactivated.orcid_id)
    make_row(organisation, grant.email, upload=upload)
    make_row(organisation, grant.email, upload=upload)
    make_row(organisation, deactivated.email, upload=upload)
    waiting = make_row(organisation, "not-yet@example.org", upload=upload, status=Status.NOTIFICATION_SENT)
    slow = make_row(organisation, grant.email, upload=upload, status=Status.PENDING_RETRY,
                    next_attempt_at=NOW + dt.timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        write(organisation, clock)
    upload.refresh_from_db()
    assert upload.summary_sent_at is None and mail.outbox == []  # one row still pending a retry

    clock.advance(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        result = write(organisation, clock)
        write(organisation, clock)  # nothing more to do, and no second summary
    upload.refresh_from_db()
    assert result.uploads_finished == [upload.pk]
    assert upload.summary_sent_at == upload.finished_at == clock.at
    (message,) = mail.outbox
    assert message.to == ["uploader@alpha.example"]
    assert "staff-2026.csv" in message.subject and "Alpha University" in message.subject
    assert "In ORCID: 3" in message.body and "Record deactivated or deprecated: 1" in message.body
    assert "Notification sent: 1" in message.body and "5 rows" in message.body
    assert f"http://testserver/registry/uploads/{upload.pk}/" in message.body
    assert refreshed(waiting, slow)[1].status == Status.IN_ORCID


def test_rows_waiting_for_the_researchers_permission_do_not_hold_back_the_summary(
        orcid, clock, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    uploader = UserFactory(email="uploader@beta.example")
    upload = AffiliationUpload.objects.create(organisation=organisation, filename="leavers.csv",
                                              uploaded_by=uploader, applied_at=NOW)
    granted = researcher(orcid, organisation)
    gone = researcher(orcid, organisation)
    interrupted = researcher(orcid, organisation)
    # Written under a grant the researcher has since revoked; the member then asked for it to be deleted.
    to_delete = make_row(organisation, gone.email, upload=upload, status=Status.PENDING_DELETE, put_code="4242",
                         orcid_id=gone.orcid_id)
    # A POST whose answer was lost, from before the researcher revoked access: its claim is long stale.
    claimed = make_row(organisation, interrupted.email, upload=upload, status=Status.PENDING_RETRY,
                       write_started_at=NOW - dt.timedelta(hours=1))
    OrcidGrant.objects.filter(pk__in=[gone.pk, interrupted.pk]).update(status=OrcidGrant.Status.REVOKED)
    written = make_row(organisation, granted.email, upload=upload)

    with django_capture_on_commit_callbacks(execute=True):
        result = write(organisation, clock)

    written, to_delete, claimed = refreshed(written, to_delete, claimed)
    assert written.status == Status.IN_ORCID and result.processed == 1
    # Nothing can be done without the researchers' permission; what the member asked for is kept.
    assert (to_delete.status, to_delete.put_code) == (Status.PENDING_DELETE, "4242")
    assert (claimed.status, claimed.write_started_at) == (Status.PENDING_RETRY, NOW - dt.timedelta(hours=1))
    assert result.uploads_finished == [upload.pk]
    (message,) = mail.outbox
    assert "In ORCID: 1" in message.body and "Pending delete: 1" in message.body
    assert "Pending retry: 1" in message.body


def test_an_upload_waits_for_rows_the_writer_still_owes(orcid, clock):
    organisation = OrganisationFactory()
    upload = AffiliationUpload.objects.create(organisation=organisation, filename="x.csv", applied_at=NOW)
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email, upload=upload, status=Status.PENDING_UPDATE, put_code="77")
    never_sent = make_row(organisation, "nobody@example.org", upload=upload, status=Status.PENDING_DELETE)
    assert not summary.upload_finished(upload.pk)
    Affiliation.objects.filter(pk=row.pk).update(status=Status.IN_ORCID)
    assert not summary.upload_finished(upload.pk)  # the delete needs no grant: the writer will do it
    Affiliation.objects.filter(pk=never_sent.pk).update(status=Status.DELETED)
    assert summary.upload_finished(upload.pk)


# --- Cost per row ---------------------------------------------------------------------------------------

def test_each_row_costs_the_same_few_queries(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    counts = []
    for n in (2, 4, 6):
        for _ in range(n):
            make_row(organisation, grant.email)
        with CaptureQueriesContext(connection) as queries:
            assert write(organisation, clock).processed == n
        counts.append(len(queries.captured_queries))
    # Two more rows cost the same both times (constant per row), and each row four queries: its re-read
    # (locked), the audit's read, the update and the change record. Claims and commits are per group.
    assert counts[1] - counts[0] == counts[2] - counts[1], counts
    assert (counts[1] - counts[0]) / 2 <= 4, counts
