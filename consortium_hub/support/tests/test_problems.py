"""ORCID's problem management across consortia: linking incidents of A and B to one problem, what
each lead sees of it, known errors, and telling every linked ticket's owner once when it is resolved."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows
from consortium_hub.support.models import Problem, SavedAnswer, Ticket
from consortium_hub.support.selectors import problems as selectors
from consortium_hub.support.services import problems as services

pytestmark = pytest.mark.django_db

ANON, ADMIN, ENG, SUP = "anonymous", "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
_serial = itertools.count(1)


def incident(consortium: Any, organisation: Any = None, *, escalated: bool = True, **fields: Any) -> Ticket:
    n = next(_serial)
    if escalated:
        fields.update(tier=2, orcid_status=Ticket.OrcidStatus.INVESTIGATING, status=Ticket.Status.WITH_ORCID,
                      escalation_summary=f"Summary {n}")
    return Ticket.objects.create(consortium=consortium, organisation=organisation, reference=f"P-{n:05d}",
                                 subject=f"Sync failing {n}", requester_email="someone@example.org", **fields)


@pytest.fixture
def linked(cast):
    """One problem with an incident of consortium A and one of consortium B."""
    ticket_a = incident(cast.consortium_a, cast.org_a)
    ticket_b = incident(cast.consortium_b, cast.org_b)
    problem = services.problem_create(user=cast[SUP], title="Webhook signing broken", tickets=[ticket_a, ticket_b])
    return problem, ticket_a, ticket_b


# --- Creating and linking ----------------------------------------------------------------------------

def test_orcid_support_opens_numbered_problems_and_leads_cannot(cast):
    first = services.problem_create(user=cast[SUP], title="One")
    second = services.problem_create(user=cast[ADMIN], title="Two")
    assert (first.reference, second.reference) == ("PRB-000001", "PRB-000002")
    for who in (LA, LS, ENG, MC):
        with pytest.raises(PermissionDenied):
            services.problem_create(user=cast[who], title="Nope")


def test_a_problem_links_incidents_from_any_consortium(cast, linked):
    problem, ticket_a, ticket_b = linked
    assert set(problem.tickets.all()) == {ticket_a, ticket_b}
    with pytest.raises(ValidationError, match="already linked"):
        services.problem_link_ticket(user=cast[SUP], problem=problem, ticket=ticket_a)
    # ORCID support sees escalated tickets only: a lead's Tier 1 ticket cannot be linked by it.
    tier_1 = incident(cast.consortium_a, cast.org_a, escalated=False)
    with pytest.raises(ValidationError):
        services.problem_link_ticket(user=cast[SUP], problem=problem, ticket=tier_1)
    services.problem_unlink_ticket(user=cast[SUP], problem=problem, ticket=ticket_b)
    assert list(problem.tickets.all()) == [ticket_a]
    with pytest.raises(PermissionDenied):
        services.problem_link_ticket(user=cast[LA], problem=problem, ticket=ticket_b)


def test_a_problem_can_be_opened_from_a_ticket(cast, client_for):
    ticket = incident(cast.consortium_b, cast.org_b)
    client = client_for(cast[SUP])
    url = reverse("support:problem_create") + f"?ticket={ticket.reference}"
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["title"] == ticket.subject
    response = client.post(url, {"title": ticket.subject, "state": "new", "from_ticket": ticket.reference})
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("support:problem_detail",
                                                                           args=[problem.pk])
    assert list(problem.tickets.all()) == [ticket]
    assert problem.description == ticket.escalation_summary


def test_link_and_unlink_pages_take_a_ticket_reference(cast, client_for, linked):
    problem, ticket_a, ticket_b = linked
    other = incident(cast.consortium_a, cast.org_a)
    client = client_for(cast[SUP])
    client.post(reverse("support:problem_link", args=[problem.pk]), {"ticket": other.reference.lower()})
    assert problem.tickets.filter(pk=other.pk).exists()
    response = client.post(reverse("support:problem_link", args=[problem.pk]), {"ticket": "NOPE-1"}, follow=True)
    assert "No ticket NOPE-1 that you can see." in response.content.decode()
    client.post(reverse("support:problem_unlink", args=[problem.pk]), {"ticket": ticket_b.reference})
    assert set(problem.tickets.all()) == {ticket_a, other}


# --- What each lead sees -------------------------------------------------------------------------------

def test_each_lead_sees_the_problem_but_only_its_own_incidents(cast, client_for, linked):
    problem, ticket_a, ticket_b = linked
    for who, mine, theirs in ((LA, ticket_a, ticket_b), (LS, ticket_a, ticket_b), (LB, ticket_b, ticket_a)):
        listed = list(selectors.problem_list(user=cast[who]))
        assert listed == [problem], who  # once, although the visibility join meets two tickets
        assert listed[0].ticket_count == 1
        detail = selectors.problem_detail(user=cast[who]).get(pk=problem.pk)
        assert detail.visible_tickets == [mine]
        page = client_for(cast[who]).get(reverse("support:problem_detail", args=[problem.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert mine.reference in html and theirs.reference not in html and theirs.subject not in html
        assert reverse("support:problem_edit", args=[problem.pk]) not in html  # read-only
    orcid = selectors.problem_detail(user=cast[SUP]).get(pk=problem.pk)
    assert set(orcid.visible_tickets) == {ticket_a, ticket_b}
    assert selectors.problem_list(user=cast[SUP]).get().ticket_count == 2


def test_lead_b_gets_404_on_a_problem_of_a_alone_and_members_see_no_problems(cast, client_for, api_for):
    ticket_a = incident(cast.consortium_a, cast.org_a)
    problem = services.problem_create(user=cast[SUP], title="Only A", tickets=[ticket_a])
    assert list(selectors.problem_list(user=cast[LB])) == []
    assert client_for(cast[LB]).get(reverse("support:problem_detail", args=[problem.pk])).status_code == 404
    assert api_for(cast[LB]).get(f"/api/v1/support/problems/{problem.pk}/").status_code == 404
    assert list(selectors.problem_list(user=cast[MC])) == []
    assert selectors.problems_for_ticket(cast[MC], ticket_a) == []
    assert client_for(cast[MC]).get(reverse("support:problem_list")).status_code == 403
    assert client_for(cast[MC]).get(reverse("support:problem_detail", args=[problem.pk])).status_code == 404


def test_the_ticket_page_snippet_lists_the_tickets_problems(cast, linked):
    problem, ticket_a, _ticket_b = linked
    services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.KNOWN_ERROR,
                            workaround="Re-save the webhook.")
    services.problem_publish_article(user=cast[SUP], problem=problem, title="Webhook KE", body="Re-save it.")
    found = selectors.problems_for_ticket(cast[LA], ticket_a)
    assert found == [problem]
    html = render_to_string("support/_ticket_problems.html", {"ticket_problems": found})
    assert problem.reference in html and "Re-save the webhook." in html and "Webhook KE" in html
    assert "Not linked" in render_to_string("support/_ticket_problems.html", {"ticket_problems": []})


# --- States, known errors, resolution ------------------------------------------------------------------

def test_states_need_their_facts(cast, linked):
    problem, *_ = linked
    with pytest.raises(ValidationError) as error:
        services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.ROOT_CAUSE_KNOWN)
    assert "root_cause" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.KNOWN_ERROR,
                                root_cause="Expired key")
    assert "workaround" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.problem_update(user=cast[LA], problem=problem, title="Mine now")


def test_a_known_error_article_is_a_saved_answer_every_lead_sees(cast, linked):
    problem, *_ = linked
    with pytest.raises(ValidationError, match="known error"):
        services.problem_publish_article(user=cast[SUP], problem=problem, title="KE", body="Text")
    services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.KNOWN_ERROR,
                            root_cause="Expired signing key", workaround="Re-save the webhook settings.")
    article = services.problem_publish_article(user=cast[SUP], problem=problem, title="KE: webhooks", body="Do X")
    again = services.problem_publish_article(user=cast[SUP], problem=problem, title="KE: webhooks", body="Do Y")
    assert again.pk == article.pk and again.body == "Do Y"
    assert (article.consortium, article.problem) == (None, problem)
    for who in (LA, LS, LB):
        assert SavedAnswer.objects.visible_to(cast[who]).filter(pk=article.pk).exists(), who


def test_resolving_tells_each_linked_tickets_owner_once(cast, django_capture_on_commit_callbacks):
    assigned = incident(cast.consortium_a, cast.org_a, assignee=cast[LA])
    unassigned = incident(cast.consortium_a, cast.org_a)
    of_b = incident(cast.consortium_b, cast.org_b)  # B has no lead support staff: its lead admins hear
    problem = services.problem_create(user=cast[SUP], title="Webhooks", tickets=[assigned, unassigned, of_b])
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.RESOLVED,
                                root_cause="Expired signing key")
    problem.refresh_from_db()
    assert problem.resolved_at is not None
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert [to for to, _subject in sent] == ["lead_admin_a@cast.example", "lead_admin_b@cast.example",
                                             "lead_support_a@cast.example"]
    by_to = dict(sent)
    assert assigned.reference in by_to["lead_admin_a@cast.example"]
    assert unassigned.reference in by_to["lead_support_a@cast.example"]
    assert of_b.reference in by_to["lead_admin_b@cast.example"]
    assert all(problem.reference in subject for _to, subject in sent)

    # Reopened and resolved again: nobody is told twice.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.INVESTIGATING)
        services.problem_update(user=cast[SUP], problem=problem, state=Problem.State.RESOLVED)
    assert mail.outbox == []


def test_edit_page_saves_through_the_service(cast, client_for, linked, django_capture_on_commit_callbacks):
    problem, *_ = linked
    client = client_for(cast[SUP])
    url = reverse("support:problem_edit", args=[problem.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": problem.title, "state": "known_error", "workaround": ""})
    assert response.status_code == 200 and "workaround" in response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"title": problem.title, "state": "resolved", "root_cause": "Key",
                                     "owner": cast[SUP].pk})
    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.state, problem.owner) == (Problem.State.RESOLVED, cast[SUP])
    assert len(mail.outbox) == 2


# --- API -----------------------------------------------------------------------------------------------

def test_problem_api_crud_and_links(cast, api_for, linked):
    problem, ticket_a, ticket_b = linked
    api = api_for(cast[SUP])
    created = api.post("/api/v1/support/problems/", {"title": "Login loop"}, format="json")
    assert created.status_code == 201 and created.json()["reference"] == "PRB-000002"
    pk = created.json()["id"]
    assert api.post(f"/api/v1/support/problems/{pk}/link/", {"ticket": ticket_b.reference},
                    format="json").json()["tickets"][0]["reference"] == ticket_b.reference
    assert api.post(f"/api/v1/support/problems/{pk}/unlink/", {"ticket": ticket_b.reference},
                    format="json").json()["tickets"] == []
    patched = api.patch(f"/api/v1/support/problems/{pk}/", {"state": "known_error"}, format="json")
    assert patched.status_code == 400 and "workaround" in patched.json()
    assert api.delete(f"/api/v1/support/problems/{pk}/").status_code == 204

    lead = api_for(cast[LA])
    data = lead.get(f"/api/v1/support/problems/{problem.pk}/").json()
    assert [t["reference"] for t in data["tickets"]] == [ticket_a.reference]
    assert lead.get("/api/v1/support/problems/").json()["results"][0]["ticket_count"] == 1
    assert lead.patch(f"/api/v1/support/problems/{problem.pk}/", {"title": "x"}, format="json").status_code == 403


# --- Query counts --------------------------------------------------------------------------------------

def _add_problems(cast: Any, n: int) -> None:
    for i in range(n):
        tickets = [incident(cast.consortium_a, cast.org_a), incident(cast.consortium_b, cast.org_b)]
        problem = Problem.objects.create(reference=f"PRB-9{next(_serial):05d}", title=f"Problem {i}",
                                         owner=cast[SUP])
        problem.tickets.add(*tickets)


@pytest.mark.parametrize("who", [SUP, LA])
def test_problem_list_query_count_is_constant(cast, client_for, who):
    client = client_for(cast[who])
    url = reverse("support:problem_list") + "?per_page=100"
    assert_constant_queries(lambda n: _add_problems(cast, n), lambda: client.get(url), shown=html_rows,
                            few=5, many=50)


@pytest.mark.parametrize("who", [SUP, LA])
def test_problem_api_list_query_count_is_constant(cast, api_for, who):
    api = api_for(cast[who])
    assert_constant_queries(lambda n: _add_problems(cast, n), lambda: api.get("/api/v1/support/problems/"),
                            shown=api_rows, few=5, many=50)
