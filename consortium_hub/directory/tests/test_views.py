"""Directory pages: the forms say what is wrong, dropdowns only offer what the user may use."""

import pytest
from django.urls import reverse

from consortium_hub.directory.models import Contact

pytestmark = pytest.mark.django_db


def test_deleting_the_only_voting_contact_explains_why_not(cast, client_for):
    response = client_for(cast["lead_admin_a"]).post(reverse("directory:contact_delete", args=[cast.contact_a.pk]))
    assert response.status_code == 200
    assert "voting contact" in response.content.decode()
    assert Contact.objects.filter(pk=cast.contact_a.pk).exists()


def test_second_voting_contact_error_names_the_holder_on_the_form(cast, client_for):
    response = client_for(cast["lead_admin_a"]).post(reverse("directory:contact_create"), {
        "organisation": cast.org_a.pk, "name": "Vera", "email": "vera@alpha.example", "roles": ["voting"]})
    assert response.status_code == 200
    assert "Ann Alpha" in str(response.context["form"].errors["roles"])


def test_form_dropdowns_offer_only_the_users_consortium(cast, client_for):
    form = client_for(cast["lead_admin_a"]).get(reverse("directory:organisation_create")).context["form"]
    assert [str(c) for c in form.fields["consortium"].queryset] == ["Consortium A"]
    form = client_for(cast["member_contact_a"]).get(reverse("directory:contact_create")).context["form"]
    assert [str(o) for o in form.fields["organisation"].queryset] == ["Alpha University"]


def test_list_filters_sort_and_export_stay_in_scope(cast, client_for):
    client = client_for(cast["lead_admin_a"])
    response = client.get(reverse("directory:organisation_list"), {"ordering": "-name"})
    assert [o.legal_name for o in response.context["objects"]] == ["Alpha University", "Alpha Institute"]
    csv_text = client.get(reverse("directory:export", args=["organisations"])).content.decode()
    assert "Alpha University" in csv_text and "Beta University" not in csv_text
    voting = client.get(reverse("directory:voting_contacts_csv")).content.decode()
    assert "ann@alpha.example" in voting and "bea@beta.example" not in voting


def test_htmx_filter_returns_only_the_table(cast, client_for):
    response = client_for(cast["orcid_admin"]).get(reverse("directory:organisation_list"), {"q": "Beta"},
                                                  HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Beta University" in body and "<html" not in body
