"""Permission links past their date are marked expired (hourly job), so the link list says so and offers a new one."""

from __future__ import annotations

import datetime as dt
import uuid
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.email import email_delivered
from consortium_hub.core.models_email import EmailLog
from consortium_hub.registry import tasks_permissions
from consortium_hub.registry.models import Affiliation, PermissionLink
from consortium_hub.registry.services import permissions as services

pytestmark = pytest.mark.django_db

Status = Affiliation.Status
LinkStatus = PermissionLink.Status
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def link(organisation, email="ada@alpha.example", *, status=LinkStatus.SENT, expires_at, used_at=None):
    return PermissionLink.objects.create(organisation=organisation, email=email, token_hash=uuid.uuid4().hex,
                                         status=status, expires_at=expires_at, used_at=used_at)


def waiting_row(organisation, email="ada@alpha.example", status=Status.NOTIFICATION_SENT):
    return Affiliation.objects.create(
        organisation=organisation, email=email, status=status, section="employment", org_name="Alpha University",
        org_country="GB", org_city="London", disambiguated_organization_identifier="https://ror.org/02mhbdp94",
        disambiguation_source="ROR", content_key=uuid.uuid4().hex)


def _link_changes():
    return ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(PermissionLink))


def test_unused_links_past_their_date_are_marked_expired_and_nothing_else(cast):
    past, future = NOW - dt.timedelta(minutes=1), NOW + dt.timedelta(days=1)
    due = [link(cast.org_a, status=LinkStatus.SENT, expires_at=past),
           link(cast.org_a, status=LinkStatus.REQUESTED, expires_at=NOW),
           link(cast.org_b, "bea@beta.example", status=LinkStatus.FAILED, expires_at=past)]
    used = link(cast.org_a, status=LinkStatus.USED, expires_at=past, used_at=past - dt.timedelta(days=1))
    live = link(cast.org_a, status=LinkStatus.SENT, expires_at=future)
    rows = [waiting_row(cast.org_a), waiting_row(cast.org_a, status=Status.NOTIFICATION_REQUESTED)]

    assert services.expire_permission_links(now=NOW) == 3

    statuses = dict(PermissionLink.objects.values_list("pk", "status"))
    assert {statuses[item.pk] for item in due} == {LinkStatus.EXPIRED}
    assert (statuses[used.pk], statuses[live.pk]) == (LinkStatus.USED, LinkStatus.SENT)
    # The rows still say where the request got to; the link list shows it expired and offers a new one.
    assert [Affiliation.objects.get(pk=r.pk).status for r in rows] == [Status.NOTIFICATION_SENT,
                                                                        Status.NOTIFICATION_REQUESTED]
    # Each change is in the change log, like every other change of a link.
    assert _link_changes().filter(object_id__in=[str(item.pk) for item in due], action="update").count() == 3
    # Running again finds nothing to do.
    assert services.expire_permission_links(now=NOW) == 0


def test_a_claim_left_behind_does_not_keep_a_past_link_live(cast):
    stale_claim = NOW - dt.timedelta(seconds=services.CLAIM_SECONDS + 1)
    abandoned = link(cast.org_a, expires_at=NOW - dt.timedelta(minutes=1), used_at=stale_claim)
    answering = link(cast.org_a, expires_at=NOW - dt.timedelta(minutes=1), used_at=NOW - dt.timedelta(seconds=5))

    assert services.expire_permission_links(now=NOW) == 1

    assert PermissionLink.objects.get(pk=abandoned.pk).status == LinkStatus.EXPIRED
    assert PermissionLink.objects.get(pk=answering.pk).status == LinkStatus.SENT


def test_an_expired_link_is_refused_and_a_late_email_outcome_does_not_revive_it(cast):
    expired = link(cast.org_a, status=LinkStatus.REQUESTED, expires_at=timezone.now() - dt.timedelta(minutes=1))
    expired.email_log = EmailLog.objects.create(to="ada@alpha.example", subject="s")
    expired.save()
    services.expire_permission_links(now=timezone.now())

    with pytest.raises(services.ExpiredLink):
        services.resolve_link(services.link_token(expired))
    email_delivered.send(sender=EmailLog, log_id=expired.email_log_id, status=EmailLog.Status.SENT)
    assert PermissionLink.objects.get(pk=expired.pk).status == LinkStatus.EXPIRED


def test_asking_again_after_expiry_mails_a_fresh_link(cast, django_capture_on_commit_callbacks):
    expired = link(cast.org_a, expires_at=timezone.now() - dt.timedelta(days=1))
    services.expire_permission_links(now=timezone.now())
    row = waiting_row(cast.org_a)

    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.request_permission(organisation=cast.org_a, email="ada@alpha.example",
                                            created_by=cast["member_contact_a"])

    assert fresh != expired and len(mail.outbox) == 1
    assert Affiliation.objects.get(pk=row.pk).status == Status.NOTIFICATION_SENT


def test_the_hourly_job_expires_the_links_due(cast):
    due = link(cast.org_a, expires_at=NOW - dt.timedelta(seconds=1))
    with mock.patch.object(tasks_permissions.timezone, "now", return_value=NOW):
        tasks_permissions.expire_permission_links_hourly.call_local()
        assert tasks_permissions.expire_due_links() == 0
    assert PermissionLink.objects.get(pk=due.pk).status == LinkStatus.EXPIRED
    record = _link_changes().get(object_id=str(due.pk), action="update")
    assert record.via == "job:expire_permission_links"


@pytest.mark.urls("consortium_hub.urls")
def test_the_link_list_shows_an_expired_link_and_offers_a_new_one(cast, client_for):
    due = link(cast.org_a, expires_at=timezone.now() - dt.timedelta(minutes=1))
    services.expire_permission_links(now=timezone.now())

    page = client_for(cast["member_contact_a"]).get("/registry/permission-links/").content.decode()

    assert "Expired" in page and f"/registry/permission-links/{due.pk}/resend/" in page
