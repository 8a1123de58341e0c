"""The writer when things go wrong: ORCID failing and recovering, rate limits, answers lost on the way back,
and the worker dying between ORCID's answer and storing it. Nothing may be lost and nothing written twice.

Time is driven by the writer's injected clock (and `next_attempt_at`), never by sleeping.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet

from consortium_hub.core.testing.factories import OrganisationFactory, valid_ror
from consortium_hub.registry import client as client_module
from consortium_hub.registry.models import Affiliation, OrcidApiCall
from consortium_hub.registry.services import sync
from consortium_hub.registry.tests.test_sync import (  # noqa: F401  (fixtures)
    NOW,
    Status,
    clock,
    items,
    make_row,
    orcid,
    refreshed,
    researcher,
    signing_key,
    write,
)

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def posts() -> int:
    return OrcidApiCall.objects.filter(method="POST").count()


def assert_each_row_has_its_own_item(orcid, grant, rows):
    put_codes = sorted(int(row.put_code) for row in rows)
    assert sorted(item.put_code for item in items(orcid, grant)) == put_codes
    assert len(set(put_codes)) == len(rows)


def test_five_failures_then_recovery_loses_nothing(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(8)]
    orcid.state.fail_next(5, 503)

    first = write(organisation, clock)

    rows = refreshed(*rows)
    failed, written = rows[:5], rows[5:]
    assert first.outcomes == {Status.PENDING_RETRY: 5, Status.IN_ORCID: 3}
    for row in failed:
        assert (row.status, row.attempts, row.put_code) == (Status.PENDING_RETRY, 1, "")
        assert row.next_attempt_at == NOW + sync_delay(1)
        assert "503" in row.orcid_error
        # ORCID answered with an error, but a 503 may come from a proxy after the write went through:
        # the claim stays so that the retry looks at the record first.
        assert row.write_started_at == NOW
    assert {row.status for row in written} == {Status.IN_ORCID}

    clock.advance(seconds=30)
    assert write(organisation, clock).processed == 0  # not before the backoff is over

    clock.advance(seconds=30)
    second = write(organisation, clock)

    rows = refreshed(*rows)
    assert second.outcomes == {Status.IN_ORCID: 5}
    assert {(row.status, row.attempts, row.orcid_error) for row in rows} == {(Status.IN_ORCID, 0, "")}
    assert all(row.write_started_at is None and row.next_attempt_at is None for row in rows)
    assert_each_row_has_its_own_item(orcid, grant, rows)
    assert OrcidApiCall.objects.filter(method="GET").count() == 5  # each retry read the record first


def sync_delay(attempts: int) -> Any:
    import datetime as dt

    return dt.timedelta(seconds=sync.retry_delay(attempts))


def test_backoff_doubles_and_gives_up_as_an_error(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    for attempt in range(1, sync.MAX_ATTEMPTS):
        orcid.state.fail_next(2, 500)  # the reconciling read and the POST
        write(organisation, clock)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.PENDING_RETRY, attempt)
        assert row.next_attempt_at == clock.at + sync_delay(attempt)
        clock.at = row.next_attempt_at
    assert sync.retry_delay(3) == 2 * sync.retry_delay(2) == 4 * sync.retry_delay(1)

    orcid.state.fail_next(1, 500)
    write(organisation, clock)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.ERROR_ADDING, sync.MAX_ATTEMPTS, None)
    assert items(orcid, grant) == []


def test_retry_after_is_honoured_and_the_run_stops_rather_than_wait(orcid, clock,
                                                                     django_capture_on_commit_callbacks):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    first, second = make_row(organisation, grant.email), make_row(organisation, grant.email)
    orcid.state.fail_next(1, 429, retry_after=300)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = write(organisation, clock)

    first, second = refreshed(first, second)
    assert (first.status, first.write_started_at) == (Status.PENDING_RETRY, None)  # refused: not written
    assert first.next_attempt_at == NOW + sync_delay(1) * 5  # 300 s, not the first step's 60 s
    # The client holds every request back for 300 s; 300 s is more than the run's budget, so it stopped and
    # scheduled its successor for when ORCID will take calls again (a job in the future: not run inline).
    assert result.more_due and result.processed == 1
    assert second.status == Status.PENDING and len(callbacks) == 1
    assert OrcidApiCall.objects.count() == 1

    clock.advance(seconds=300)
    client_module._limiters.clear()  # the 300 s have passed for the limiter too
    write(organisation, clock)
    assert {row.status for row in refreshed(first, second)} == {Status.IN_ORCID}
    assert_each_row_has_its_own_item(orcid, grant, refreshed(first, second))


def test_an_update_or_delete_that_fails_keeps_saying_what_it_waits_for(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    edited, removed = make_row(organisation, grant.email), make_row(organisation, grant.email)
    write(organisation, clock)
    edited, removed = refreshed(edited, removed)
    edited.status, edited.role_title = Status.PENDING_UPDATE, "Reader"
    removed.status = Status.PENDING_DELETE
    edited.save()
    removed.save()
    orcid.state.fail_next(2, 502)

    write(organisation, clock)
    edited, removed = refreshed(edited, removed)
    assert (edited.status, edited.attempts) == (Status.PENDING_UPDATE, 1)
    assert (removed.status, removed.attempts) == (Status.PENDING_DELETE, 1)

    clock.advance(minutes=1)
    write(organisation, clock)
    edited, removed = refreshed(edited, removed)
    assert (edited.status, removed.status) == (Status.IN_ORCID, Status.DELETED)
    (item,) = items(orcid, grant)
    assert item.to_dict()["fields"]["role-title"] == "Reader"


def test_an_answer_lost_on_the_way_back_is_not_written_twice(orcid, clock, monkeypatch):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(3)]
    real_request = requests.Session.request
    posts_sent: list[str] = []

    def lose_the_second_posts_answer(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        response = real_request(session, method, url, **kwargs)
        if method == "POST":
            posts_sent.append(url)
            if len(posts_sent) == 2:
                raise requests.ReadTimeout("the answer never came")  # ORCID did the write all the same
        return response

    monkeypatch.setattr(requests.Session, "request", lose_the_second_posts_answer)
    write(organisation, clock)
    monkeypatch.setattr(requests.Session, "request", real_request)

    middle = refreshed(rows[1])[0]
    assert (middle.status, middle.put_code, middle.write_started_at) == (Status.PENDING_RETRY, "", NOW)
    assert len(items(orcid, grant)) == 3  # ORCID has it

    clock.advance(minutes=1)
    write(organisation, clock)

    rows = refreshed(*rows)
    assert {row.status for row in rows} == {Status.IN_ORCID}
    assert_each_row_has_its_own_item(orcid, grant, rows)
    assert posts() == 3  # the retry adopted the item instead of posting it again


def test_a_worker_killed_after_orcids_answer_is_reconciled_without_duplicates(orcid, clock, monkeypatch):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    rows = [make_row(organisation, grant.email) for _ in range(7)]
    monkeypatch.setattr(sync, "WRITE_GROUP", 3)
    real_save = sync._save_outcome
    saved: list[int] = []

    def die_while_storing_the_fifth(outcome: Any, run: Any) -> None:
        if len(saved) == 4:
            raise WorkerKilled  # ORCID has added rows 4-6; their put-codes are in this dying process only
        saved.append(outcome.row.pk)
        real_save(outcome, run)

    monkeypatch.setattr(sync, "_save_outcome", die_while_storing_the_fifth)
    with pytest.raises(WorkerKilled):
        write(organisation, clock)
    monkeypatch.setattr(sync, "_save_outcome", real_save)

    rows = refreshed(*rows)
    assert [row.status for row in rows[:3]] == [Status.IN_ORCID] * 3
    # The second group's outcomes died with the worker (committed together, rolled back together).
    assert {(row.status, row.put_code, row.write_started_at) for row in rows[3:6]} == {(Status.PENDING, "", NOW)}
    assert (rows[6].status, rows[6].write_started_at) == (Status.PENDING, None)  # never sent
    assert len(items(orcid, grant)) == 6

    # Restarted at once: the claims are too fresh to tell whether their requests are still under way, so
    # those rows wait while the row that was never sent is written.
    assert write(organisation, clock).outcomes == {Status.IN_ORCID: 1}
    assert {row.status for row in refreshed(*rows[3:6])} == {Status.PENDING}

    clock.advance(seconds=sync.stale_claim_seconds())
    result = write(organisation, clock)

    rows = refreshed(*rows)
    assert result.outcomes == {Status.IN_ORCID: 3}
    assert {(row.status, row.write_started_at) for row in rows} == {(Status.IN_ORCID, None)}
    assert_each_row_has_its_own_item(orcid, grant, rows)
    assert posts() == 7  # one per row: the crashed rows' items were adopted
    assert OrcidApiCall.objects.filter(method="GET", path=f"/v3.0/{grant.orcid_id}/employments").count() == 3


def test_reconciling_never_adopts_an_item_another_row_holds(orcid, clock, monkeypatch):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    # Same organisation, section, start and role: only the department tells them apart, and the matcher
    # does not look at departments.
    same = {"role_title": "Lecturer", "start_date": "2020", "disambiguated_organization_identifier": valid_ror(1)}
    twin_a = make_row(organisation, grant.email, department_name="Physics", **same)
    twin_b = make_row(organisation, grant.email, department_name="Chemistry", **same)
    write(organisation, clock, batch_size=1, time_budget_seconds=0)  # twin A only
    twin_a.refresh_from_db()
    real_save = sync._save_outcome

    def die(outcome: Any, run: Any) -> None:
        raise WorkerKilled

    monkeypatch.setattr(sync, "_save_outcome", die)
    with pytest.raises(WorkerKilled):
        write(organisation, clock)
    monkeypatch.setattr(sync, "_save_outcome", real_save)
    assert len(items(orcid, grant)) == 2

    clock.advance(seconds=sync.stale_claim_seconds())
    write(organisation, clock)

    twin_a, twin_b = refreshed(twin_a, twin_b)
    assert twin_b.status == Status.IN_ORCID and twin_b.put_code != twin_a.put_code
    assert_each_row_has_its_own_item(orcid, grant, [twin_a, twin_b])
    departments = {str(i.put_code): i.to_dict()["fields"]["department-name"] for i in items(orcid, grant)}
    assert departments == {twin_a.put_code: "Physics", twin_b.put_code: "Chemistry"}


def test_an_edit_made_while_orcid_was_answering_is_sent_next(orcid, clock, monkeypatch):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email, role_title="Lecturer")
    real_add = client_module.OrcidClient.add_affiliation

    def add_while_someone_edits(self, *args: Any, **kwargs: Any) -> str:
        put_code = real_add(self, *args, **kwargs)
        edited = Affiliation.objects.get(pk=row.pk)
        edited.role_title, edited.status = "Senior Lecturer", Status.PENDING_UPDATE
        edited.save()
        return put_code

    monkeypatch.setattr(client_module.OrcidClient, "add_affiliation", add_while_someone_edits)
    write(organisation, clock)
    monkeypatch.setattr(client_module.OrcidClient, "add_affiliation", real_add)

    row.refresh_from_db()
    (item,) = items(orcid, grant)
    # ORCID's put-code is kept; the member's edit keeps its status, so it is what gets written next.
    assert (row.status, row.put_code, row.write_started_at) == (Status.PENDING_UPDATE, str(item.put_code), None)

    write(organisation, clock)
    row.refresh_from_db()
    (item,) = items(orcid, grant)
    assert row.status == Status.IN_ORCID and item.to_dict()["fields"]["role-title"] == "Senior Lecturer"
    assert posts() == 1


def test_a_revoked_grant_during_retries_keeps_the_claim_for_later(orcid, clock):
    organisation = OrganisationFactory()
    grant = researcher(orcid, organisation)
    row = make_row(organisation, grant.email)
    orcid.state.fail_next(1, 503)
    write(organisation, clock)
    orcid.state.revoke_grants(grant.orcid_id)
    clock.advance(minutes=1)

    write(organisation, clock)

    row.refresh_from_db()
    # If the researcher grants access again, the row is reconciled before anything is added.
    assert row.status == Status.USER_REVOKED_ACCESS and row.write_started_at is not None
    assert items(orcid, grant) == []


def test_a_token_that_cannot_be_decrypted_stops_only_its_own_rows(orcid, clock, settings):
    retired_key, current_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first, second = OrganisationFactory(), OrganisationFactory()  # two consortia, both on the hub's client
    settings.FIELD_ENCRYPTION_KEYS = [retired_key]
    lost = researcher(orcid, first)
    settings.FIELD_ENCRYPTION_KEYS = [current_key]  # the operator dropped the key the token was stored with
    fine = researcher(orcid, second)
    added = make_row(first, lost.email)
    edited = make_row(first, lost.email, status=Status.PENDING_UPDATE, put_code="101")
    removed = make_row(first, lost.email, status=Status.PENDING_DELETE, put_code="102")
    other = make_row(second, fine.email)

    result = write(first, clock)

    added, edited, removed, other = refreshed(added, edited, removed, other)
    assert [row.status for row in (added, edited, removed)] == [
        Status.ERROR_ADDING, Status.ERROR_UPDATING, Status.ERROR_DELETING]
    for row in (added, edited, removed):
        assert row.orcid_error == sync.UNREADABLE_TOKEN_MESSAGE
        assert "grant access again" in row.orcid_error
    assert (added.put_code, edited.put_code, removed.put_code) == ("", "101", "102")
    assert other.status == Status.IN_ORCID and len(items(orcid, fine)) == 1
    assert items(orcid, lost) == [] and not OrcidApiCall.objects.filter(organisation=first).exists()
    assert result.outcomes == {Status.IN_ORCID: 1, Status.ERROR_ADDING: 1, Status.ERROR_UPDATING: 1,
                               Status.ERROR_DELETING: 1}
