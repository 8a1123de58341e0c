"""Saved answers and known-error articles: the list (searchable), writing them, and inserting one
into a reply (htmx: the reply's textarea comes back with the answer appended)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import VIEW
from consortium_hub.core.viewkit import ListPage, form_page
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import Problem, SavedAnswer
from consortium_hub.support.selectors import answers as selectors
from consortium_hub.support.services import answers as services

ORCID = "orcid"


class AnswerForm(forms.Form):
    owner = forms.ChoiceField(label=gettext_lazy("Whose answer"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=255)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 10}),
                           help_text=gettext_lazy("Inserted into replies as it is; edit it there before sending."))
    problem = forms.ModelChoiceField(queryset=Problem.objects.none(), required=False,
                                     label=gettext_lazy("Known error of problem"),
                                     help_text=gettext_lazy("Makes this a known-error article of that problem."))

    def __init__(self, *args: Any, user: Any, answer: SavedAnswer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if answer is not None:
            del self.fields["owner"]
        else:
            choices = [(str(c.pk), c.name) for c in selectors.answer_consortia(user=user)]
            if services.can_edit_answers(user, None):
                choices.insert(0, (ORCID, _("ORCID (for every consortium)")))
            self.fields["owner"].choices = choices
        self.fields["problem"].queryset = Problem.objects.visible_to(user).distinct().order_by("-created_at")

    def owner_consortium(self) -> Consortium | None:
        owner = self.cleaned_data["owner"]
        return None if owner == ORCID else Consortium.objects.get(pk=owner)


class AnswerList(ListPage):
    selector = staticmethod(selectors.answer_list)
    filterset_class = selectors.SavedAnswerFilter
    template_name = "support/answer_list.html"
    partial_template_name = "support/answer_list_table.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            selectors.require_answers(request.user)
            # ORCID support's grant is `orcid_support`; lead staff's is `support_notes`.
            scope = access_scope(request.user)
            self.area = "support_notes" if scope.allows_anything("support_notes", VIEW) else "orcid_support"
        return super().get(request, *args, **kwargs)

    def extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {"title": _("Saved answers and known errors"),
                "can_add": selectors.answer_consortia(user=user).exists() or services.can_edit_answers(user, None)}


@login_required
def answer_create(request: HttpRequest) -> HttpResponse:
    selectors.require_answers(request.user)
    form = AnswerForm(request.POST or None, user=request.user)
    if not form.fields["owner"].choices:
        raise PermissionDenied
    return form_page(
        request, form=form, template="support/answer_form.html",
        save=lambda data: services.answer_create(user=request.user, consortium=form.owner_consortium(),
                                                 title=data["title"], body=data["body"], problem=data["problem"]),
        success_url=reverse("support:answer_list"), success_message=_("Saved answer added."),
        context={"title": _("New saved answer"), "cancel_url": reverse("support:answer_list")})


@login_required
def answer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.require_answers(request.user)
    answer = selectors.answer_for_user_or_404(user=request.user, pk=pk)
    if not services.can_edit_answers(request.user, answer.consortium_id):
        raise PermissionDenied
    form = AnswerForm(request.POST or None, user=request.user, answer=answer,
                      initial={"title": answer.title, "body": answer.body, "problem": answer.problem_id})
    return form_page(
        request, form=form, template="support/answer_form.html",
        save=lambda data: services.answer_update(user=request.user, answer=answer, title=data["title"],
                                                 body=data["body"], problem=data["problem"],
                                                 clear_problem=data["problem"] is None),
        success_url=reverse("support:answer_list"), success_message=_("Saved answer changed."),
        context={"title": _("Edit saved answer"), "answer": answer, "cancel_url": reverse("support:answer_list")})


@login_required
def answer_insert(request: HttpRequest) -> HttpResponse:
    """The reply textarea with the chosen answer appended (htmx swaps it in place of the old one).

    POST from the page (a long draft does not fit in a URL); GET works too."""
    selectors.require_answers(request.user)
    data = request.POST if request.method == "POST" else request.GET
    body = data.get("body", "")
    chosen = data.get("answer", "")
    if chosen:
        answer = selectors.answer_for_user_or_404(user=request.user, pk=chosen)
        body = f"{body.rstrip()}\n\n{answer.body}" if body.strip() else answer.body
    return render(request, "support/answer_insert.html", {"body": body})


urlpatterns = [
    path("answers/", AnswerList.as_view(), name="answer_list"),
    path("answers/new/", answer_create, name="answer_create"),
    path("answers/<int:pk>/edit/", answer_edit, name="answer_edit"),
    path("answers/insert/", answer_insert, name="answer_insert"),
]
