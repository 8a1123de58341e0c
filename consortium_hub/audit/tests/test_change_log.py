"""One receiver writes the change log for every domain model, with who, when, which request, before/after."""

import pytest
from django.urls import reverse

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.directory.models import Contact

pytestmark = pytest.mark.django_db


def _latest(obj):
    return ChangeRecord.objects.filter(content_type__model=type(obj)._meta.model_name,
                                       object_id=str(obj.pk)).first()


def test_web_edit_is_recorded_with_user_and_request_id(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    data = {"consortium": cast.consortium_a.pk, "legal_name": "Alpha University", "type": "research",
            "country": "GB", "city": "York", "ror_id": cast.org_a.ror_id}
    response = client.post(reverse("directory:organisation_edit", args=[cast.org_a.pk]), data,
                           HTTP_X_REQUEST_ID="req-test-0001")
    assert response.status_code == 302, response.content
    record = _latest(cast.org_a)
    assert (record.action, record.user, record.request_id, record.via) == (
        "update", cast["lead_admin_a"], "req-test-0001", "web")
    assert (record.before["city"], record.after["city"]) == ("London", "York")


def test_api_edit_is_recorded_as_api(cast, api_for):
    response = api_for(cast["lead_admin_a"]).patch(f"/api/v1/contacts/{cast.contact_a.pk}/", {"phone": "+44 20"},
                                                   format="json")
    assert response.status_code == 200, response.content
    record = _latest(cast.contact_a)
    assert (record.via, record.user, record.after["phone"]) == ("api", cast["lead_admin_a"], "+44 20")
    assert response["X-Request-ID"] == record.request_id


def test_delete_keeps_the_last_state(cast, client_for):
    contact_pk = Contact.objects.create(organisation=cast.org_a2, name="Temp", email="temp@inst.example").pk
    client_for(cast["lead_admin_a"]).post(reverse("directory:contact_delete", args=[contact_pk]))
    assert not Contact.objects.filter(pk=contact_pk).exists()
    record = ChangeRecord.objects.filter(content_type__model="contact", object_id=str(contact_pk)).first()
    assert record.action == "delete" and record.before["email"] == "temp@inst.example" and record.after is None


def test_saving_without_changes_writes_nothing(cast):
    before = ChangeRecord.objects.count()
    cast.org_a.save()
    assert ChangeRecord.objects.count() == before


def test_history_tab_shows_the_object_and_its_parts(cast, client_for):
    cast.contact_a.roles.filter(role="voting").delete()
    response = client_for(cast["lead_support_a"]).get(reverse("directory:contact_history", args=[cast.contact_a.pk]))
    assert response.status_code == 200
    kinds = {(r.content_type.model, r.action) for r in response.context["objects"]}
    assert ("contact", "create") in kinds and ("contactrole", "delete") in kinds


def test_passwords_never_reach_the_change_log(cast):
    user = cast["lead_admin_a"]
    user.set_password("a brand new password")
    user.name = "Renamed"
    user.save()
    record = _latest(user)
    assert "password" not in record.after and record.after["name"] == "Renamed"


def test_orcid_admin_change_log_filters_by_request(cast, client_for):
    client = client_for(cast["orcid_admin"])
    record = ChangeRecord.objects.first()
    record.request_id = "needle-123"
    record.save()
    response = client.get(reverse("audit:change_log"), {"request_id": "needle-123"})
    assert [r.pk for r in response.context["objects"]] == [record.pk]
