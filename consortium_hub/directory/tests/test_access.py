"""The access mechanism: what each member of the cast sees, through the one lookup helper."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from consortium_hub.core.access import get_for_user_or_404
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Consortium, Contact, Organisation

pytestmark = pytest.mark.django_db


def names(qs):
    return sorted(str(o) for o in qs)


def test_lead_of_a_sees_only_consortium_a(cast):
    user = cast["lead_admin_a"]
    assert names(Consortium.objects.visible_to(user)) == ["Consortium A"]
    assert names(Organisation.objects.visible_to(user)) == ["Alpha Institute", "Alpha University"]
    assert cast.contact_b not in Contact.objects.visible_to(user)


def test_guessing_another_consortiums_id_is_404(cast):
    with pytest.raises(Http404):
        get_for_user_or_404(cast["lead_admin_a"], Organisation, pk=cast.org_b.pk)
    with pytest.raises(Http404):
        get_for_user_or_404(cast["lead_admin_b"], Contact, pk=cast.contact_a.pk)


def test_visible_but_not_changeable_is_403(cast):
    with pytest.raises(PermissionDenied):
        get_for_user_or_404(cast["lead_support_a"], Organisation, CHANGE, pk=cast.org_a.pk)


def test_member_contact_sees_own_organisation_and_its_consortium_only(cast):
    user = cast["member_contact_a"]
    assert names(Organisation.objects.visible_to(user)) == ["Alpha University"]
    assert names(Consortium.objects.visible_to(user)) == ["Consortium A"]
    assert names(Contact.objects.visible_to(user)) == ["Ann Alpha"]
    assert get_for_user_or_404(user, Contact, CHANGE, pk=cast.contact_a.pk) == cast.contact_a
    with pytest.raises(PermissionDenied):
        get_for_user_or_404(user, Organisation, CHANGE, pk=cast.org_a.pk)


def test_engagement_lead_sees_assigned_consortia_only(cast):
    assert names(Consortium.objects.visible_to(cast["engagement_lead"])) == ["Consortium A"]


def test_orcid_staff_see_every_consortium(cast):
    for name in ("orcid_admin", "orcid_support"):
        assert names(Consortium.objects.visible_to(cast[name])) == ["Consortium A", "Consortium B"]


def test_anonymous_sees_nothing(cast):
    assert not Organisation.objects.visible_to(None).exists()
