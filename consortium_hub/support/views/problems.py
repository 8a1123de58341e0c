"""Support pages: ORCID's problem management (leads read the problems their tickets link to)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.core.viewkit import ListPage, form_page
from consortium_hub.support import forms_escalation as f
from consortium_hub.support.models import Problem, Ticket
from consortium_hub.support.selectors import problems as selectors
from consortium_hub.support.services import problems as services

AREA = "problems"


class ProblemList(ListPage):
    area = AREA
    selector = staticmethod(selectors.problem_list)
    filterset_class = f.ProblemFilter
    template_name = "support/problem_list.html"
    partial_template_name = "support/problem_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Problems"), "can_add": access_scope(self.request.user).can_in(ADD, AREA)}


@login_required
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    problem = get_for_user_or_404(request.user, selectors.problem_detail(user=request.user), pk=pk)
    return render(request, "support/problem_detail.html", {
        "problem": problem, "tickets": problem.visible_tickets, "articles": problem.known_error_articles,
        "can_change": access_scope(request.user).can(CHANGE, problem), "link_form": f.ProblemLinkForm(),
        "title": str(problem),
    })


def _detail(problem: Problem) -> str:
    return reverse("support:problem_detail", args=[problem.pk])


@login_required
def problem_create(request: HttpRequest) -> HttpResponse:
    """A new problem; `?ticket=REF` opens it from that incident (linked on save)."""
    require_area(request.user, AREA, ADD)
    reference = request.POST.get("from_ticket") or request.GET.get("ticket") or ""
    ticket = Ticket.objects.visible_to(request.user).filter(reference__iexact=reference.strip()).first() \
        if reference.strip() else None
    initial = {"title": ticket.subject, "description": ticket.escalation_summary} if ticket else {}
    form = f.ProblemForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> Problem:
        if ticket is not None:
            return services.problem_create_from_ticket(user=request.user, ticket=ticket, **data)
        return services.problem_create(user=request.user, **data)

    return form_page(request, form=form, template="support/problem_form.html", save=save, success_url=_detail,
                     success_message=_("Problem opened."),
                     context={"title": _("New problem"), "from_ticket": ticket,
                              "cancel_url": reverse("support:problem_list")})


@login_required
def problem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    problem = get_for_user_or_404(request.user, Problem, CHANGE, pk=pk)
    form = f.ProblemForm(request.POST or None, instance=problem)
    return form_page(request, form=form, template="support/problem_form.html",
                     save=lambda data: services.problem_update(user=request.user, problem=problem, **data),
                     success_url=_detail, success_message=_("Problem saved."),
                     context={"title": _("Edit %(problem)s") % {"problem": problem}, "problem": problem,
                              "cancel_url": _detail(problem)})


def _ticket_action(request: HttpRequest, pk: int, service: Any, done: str) -> HttpResponse:
    problem = get_for_user_or_404(request.user, Problem, CHANGE, pk=pk)
    form = f.ProblemLinkForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the ticket's reference."))
        ticket = services.visible_ticket(request.user, form.cleaned_data["ticket"])
        service(user=request.user, problem=problem, ticket=ticket)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, done % {"ref": ticket.reference})
    return redirect(_detail(problem))


@login_required
@require_POST
def problem_link(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(request, pk, services.problem_link_ticket, _("%(ref)s linked."))


@login_required
@require_POST
def problem_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(request, pk, services.problem_unlink_ticket, _("%(ref)s unlinked."))


@login_required
def problem_article(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish (or update) the problem's known-error article."""
    problem = get_for_user_or_404(request.user, Problem, CHANGE, pk=pk)
    article = problem.articles.filter(consortium__isnull=True).first()
    initial = ({"title": article.title, "body": article.body} if article else
               {"title": _("Known error: %(title)s") % {"title": problem.title},
                "body": "\n\n".join(part for part in (problem.description, problem.workaround) if part)})
    form = f.ArticleForm(request.POST or None, initial=initial)
    return form_page(request, form=form, template="support/problem_form.html",
                     save=lambda data: services.problem_publish_article(user=request.user, problem=problem, **data),
                     success_url=_detail(problem), success_message=_("Known-error article published."),
                     context={"title": _("Known-error article for %(ref)s") % {"ref": problem.reference},
                              "problem": problem, "cancel_url": _detail(problem)})


urlpatterns = [
    path("problems/", ProblemList.as_view(), name="problem_list"),
    path("problems/new/", problem_create, name="problem_create"),
    path("problems/<int:pk>/", problem_detail, name="problem_detail"),
    path("problems/<int:pk>/edit/", problem_edit, name="problem_edit"),
    path("problems/<int:pk>/link/", problem_link, name="problem_link"),
    path("problems/<int:pk>/unlink/", problem_unlink, name="problem_unlink"),
    path("problems/<int:pk>/article/", problem_article, name="problem_article"),
]
