"""Saved answers and known-error articles: who reads and writes which, search, inserting into a reply."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from consortium_hub.support.models import Problem, SavedAnswer
from consortium_hub.support.selectors import answers as selectors
from consortium_hub.support.services import answers as services
from consortium_hub.support.services import tickets as tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers(cast):
    a = services.answer_create(user=cast["lead_support_a"], consortium=cast.consortium_a, title="Reset API secret",
                               body="Go to Developer tools and reset the client secret.")
    b = services.answer_create(user=cast["lead_admin_b"], consortium=cast.consortium_b, title="B's own",
                               body="Only for consortium B.")
    orcid = services.answer_create(user=cast["orcid_support"], consortium=None, title="Known: sign-in loop",
                                   body="Clear cookies for orcid.org; a fix is on its way.")
    return a, b, orcid


def test_who_sees_which_answers(cast, answers):
    a, b, orcid = answers
    seen = {name: set(selectors.answer_list(user=cast[name])) for name in
            ("orcid_admin", "orcid_support", "lead_admin_a", "lead_support_a", "lead_admin_b", "member_contact_a",
             "engagement_lead")}
    assert seen["orcid_admin"] == {a, b, orcid}
    assert seen["orcid_support"] == {orcid}
    assert seen["lead_admin_a"] == seen["lead_support_a"] == {a, orcid}
    assert seen["lead_admin_b"] == {b, orcid}
    assert seen["member_contact_a"] == seen["engagement_lead"] == set()


def test_who_writes_which_answers(cast, answers):
    a, _b, orcid = answers
    services.answer_update(user=cast["lead_admin_a"], answer=a, title="Reset the API secret")
    a.refresh_from_db()
    assert a.title == "Reset the API secret"
    for name, answer in (("lead_admin_b", a), ("orcid_support", a), ("lead_support_a", orcid),
                         ("member_contact_a", a), ("engagement_lead", orcid)):
        with pytest.raises(PermissionDenied):
            services.answer_update(user=cast[name], answer=answer, body="x")
    with pytest.raises(PermissionDenied):
        services.answer_create(user=cast["lead_support_a"], consortium=None, title="t", body="b")
    with pytest.raises(PermissionDenied):
        services.answer_create(user=cast["lead_admin_b"], consortium=cast.consortium_a, title="t", body="b")
    services.answer_update(user=cast["orcid_admin"], answer=orcid, body="Fixed in release 3.2.")


def test_known_error_articles_link_a_problem(cast, client_for):
    problem = Problem.objects.create(reference="PRB-1", title="Sign-in loop")
    article = services.answer_create(user=cast["orcid_support"], consortium=None, title="Sign-in loop",
                                     body="Workaround: clear cookies.", problem=problem)
    assert article.problem == problem
    page = client_for(cast["lead_support_a"]).get(reverse("support:answer_list"), {"known_error": "true"})
    assert page.status_code == 200 and b"PRB-1" in page.content


def test_the_list_page_is_searchable_and_for_desk_staff_only(cast, answers, client_for):
    client = client_for(cast["lead_support_a"])
    page = client.get(reverse("support:answer_list"), {"q": "secret"})
    assert page.status_code == 200
    assert b"Reset API secret" in page.content and b"sign-in loop" not in page.content
    assert b"B&#x27;s own" not in page.content
    assert client_for(cast["member_contact_a"]).get(reverse("support:answer_list")).status_code == 403
    assert client_for(cast["orcid_support"]).get(reverse("support:answer_list")).status_code == 200


def test_create_and_edit_pages(cast, answers, client_for):
    a, _b, orcid = answers
    client = client_for(cast["lead_support_a"])
    form = client.get(reverse("support:answer_create"))
    assert [c[0] for c in form.context["form"].fields["owner"].choices] == [str(cast.consortium_a.pk)]
    created = client.post(reverse("support:answer_create"), {"owner": cast.consortium_a.pk, "title": "Invoices",
                                                             "body": "Invoices go out in January."})
    assert created.status_code == 302
    assert SavedAnswer.objects.get(title="Invoices").consortium == cast.consortium_a
    edited = client.post(reverse("support:answer_edit", args=[a.pk]), {"title": "Reset", "body": "New text"})
    assert edited.status_code == 302
    a.refresh_from_db()
    assert (a.title, a.body) == ("Reset", "New text")
    assert client.get(reverse("support:answer_edit", args=[orcid.pk])).status_code == 403
    assert client_for(cast["lead_admin_b"]).get(reverse("support:answer_edit", args=[a.pk])).status_code == 404
    orcid_form = client_for(cast["orcid_support"]).get(reverse("support:answer_create"))
    assert [c[0] for c in orcid_form.context["form"].fields["owner"].choices] == ["orcid"]


def test_inserting_an_answer_into_a_reply(cast, answers, client_for):
    a, b, orcid = answers
    ticket = tickets.ticket_create(user=cast["member_contact_a"], organisation=cast.org_a, subject="s", body="b")
    client = client_for(cast["lead_support_a"])
    detail = client.get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert set(detail.context["answers"]) == {a, orcid}
    assert b'hx-post="/support/answers/insert/"' in detail.content
    fragment = client.post(reverse("support:answer_insert"), {"answer": a.pk, "body": "Dear Ann,"},
                           HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert 'id="reply_body"' in text and 'name="body"' in text
    assert "Dear Ann,\n\nGo to Developer tools" in text
    # Another consortium's answer cannot be fetched; members cannot insert answers.
    assert client.get(reverse("support:answer_insert"), {"answer": b.pk}).status_code == 404
    assert client_for(cast["member_contact_a"]).get(reverse("support:answer_insert"),
                                                    {"answer": a.pk}).status_code == 403
    member_detail = client_for(cast["member_contact_a"]).get(reverse("support:ticket_detail", args=[ticket.pk]))
    assert member_detail.context["answers"] is None


def test_answers_api(cast, answers, api_for):
    a, b, orcid = answers
    lead = api_for(cast["lead_support_a"])
    listing = lead.get(reverse("api:saved-answer-list"), {"q": "cookies"})
    assert [r["id"] for r in listing.data["results"]] == [orcid.pk]
    created = lead.post(reverse("api:saved-answer-list"), {"consortium": cast.consortium_a.pk, "title": "T",
                                                          "body": "B"}, format="json")
    assert created.status_code == 201 and created.data["consortium"] == cast.consortium_a.pk
    assert lead.post(reverse("api:saved-answer-list"), {"title": "ORCID's", "body": "B"},
                     format="json").status_code == 403
    assert lead.patch(reverse("api:saved-answer-detail", args=[a.pk]), {"body": "new"},
                      format="json").status_code == 200
    assert lead.patch(reverse("api:saved-answer-detail", args=[orcid.pk]), {"body": "new"},
                      format="json").status_code == 403
    assert lead.get(reverse("api:saved-answer-detail", args=[b.pk])).status_code == 404
    support = api_for(cast["orcid_support"])
    assert support.patch(reverse("api:saved-answer-detail", args=[orcid.pk]), {"body": "fixed"},
                         format="json").status_code == 200
    assert api_for(cast["member_contact_a"]).get(reverse("api:saved-answer-list")).status_code == 403
    assert api_for(None).get(reverse("api:saved-answer-list")).status_code in (401, 403)
