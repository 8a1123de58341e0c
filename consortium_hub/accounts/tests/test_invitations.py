"""Joining by emailed invitation: the email goes through the job queue; the link expires and works once."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from consortium_hub.accounts import services
from consortium_hub.accounts.models import Invitation, RoleAssignment
from consortium_hub.core.models_email import EmailLog
from consortium_hub.core.roles import Role

pytestmark = pytest.mark.django_db


def _invite(cast, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(user=cast["lead_admin_a"], email="new.person@alpha.example",
                                   role=Role.LEAD_SUPPORT, consortium=cast.consortium_a, **kwargs)
    return re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[-1].body).group(1)


def test_invitation_email_is_sent_by_the_job_queue_after_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.invitation_create(user=cast["lead_admin_a"], email="x@alpha.example", role=Role.LEAD_SUPPORT,
                                   consortium=cast.consortium_a)
        assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["x@alpha.example"]
    assert EmailLog.objects.get().status == EmailLog.Status.SENT


def test_accepting_creates_the_user_with_the_role_once(cast, client, django_capture_on_commit_callbacks):
    path = _invite(cast, django_capture_on_commit_callbacks)
    response = client.post(path, {"name": "New Person", "password1": "a-long-enough-pass", "password2":
                                  "a-long-enough-pass"})
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user__email="new.person@alpha.example")
    assert (assignment.role, assignment.consortium) == (Role.LEAD_SUPPORT, cast.consortium_a)
    client.logout()
    assert client.get(path).status_code == 410  # single use


def test_expired_link_is_refused(cast, client, django_capture_on_commit_callbacks):
    path = _invite(cast, django_capture_on_commit_callbacks)
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(path, {"name": "Late", "password1": "a-long-enough-pass", "password2":
                                  "a-long-enough-pass"})
    assert response.status_code == 410
    assert not RoleAssignment.objects.filter(user__email="new.person@alpha.example").exists()


def test_lead_admin_cannot_invite_into_another_consortium_or_to_orcid_roles(cast):
    with pytest.raises(PermissionDenied):
        services.invitation_create(user=cast["lead_admin_a"], email="x@b.example", role=Role.LEAD_ADMIN,
                                   consortium=cast.consortium_b)
    with pytest.raises(PermissionDenied):
        services.invitation_create(user=cast["lead_admin_a"], email="x@orcid.example", role=Role.ORCID_ADMIN)


def test_invite_form_offers_only_the_inviters_consortium(cast, client_for):
    response = client_for(cast["lead_admin_a"]).get(reverse("accounts:invite"))
    choices = [str(c) for c in response.context["form"].fields["consortium"].queryset]
    assert choices == ["Consortium A"]
    roles = [r for r, _ in response.context["form"].fields["role"].choices]
    assert Role.ORCID_ADMIN not in roles
