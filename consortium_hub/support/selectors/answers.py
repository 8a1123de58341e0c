"""Reads of saved answers and known-error articles.

Lead staff see their consortium's answers and ORCID's (consortium None); ORCID support and ORCID
admins see ORCID's. Members never see saved answers (they are the desk's tools). ORCID support holds no
grant in the `support` area, so the list is the union of `visible_to(user, area="support_notes")` and
ORCID's own rows for holders of `orcid_support`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD, VIEW
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import SavedAnswer, Ticket


def can_use_answers(user: Any) -> bool:
    scope = access_scope(user)
    return scope.allows_anything("support_notes", VIEW) or scope.allows_anything("orcid_support", VIEW)


def require_answers(user: Any) -> None:
    if not can_use_answers(user):
        raise PermissionDenied


def answer_list(*, user: Any) -> QuerySet[SavedAnswer]:
    answers = SavedAnswer.objects.visible_to(user, VIEW, area="support_notes")
    if access_scope(user).allows_anything("orcid_support", VIEW):
        answers = answers | SavedAnswer.objects.filter(consortium__isnull=True)
    return answers.select_related("consortium", "problem").order_by("title", "pk")


def answer_for_user_or_404(*, user: Any, pk: Any) -> SavedAnswer:
    """The one lookup of a saved answer (404 when the user cannot see it)."""
    try:
        return answer_list(user=user).get(pk=pk)
    except (SavedAnswer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def answers_for_ticket(*, user: Any, ticket: Ticket) -> QuerySet[SavedAnswer]:
    """What may be inserted into a reply on `ticket`: its consortium's answers and ORCID's."""
    return answer_list(user=user).filter(Q(consortium_id=ticket.consortium_id) | Q(consortium__isnull=True))


def answer_consortia(*, user: Any) -> QuerySet[Consortium]:
    """Consortia whose saved answers the user may write."""
    return Consortium.objects.visible_to(user, ADD, area="support_notes").order_by("name")


def _consortia(request: Any) -> QuerySet:
    if request is None:
        return Consortium.objects.none()
    return Consortium.objects.visible_to(request.user, area="support_notes").order_by("name")


class SavedAnswerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    consortium = django_filters.ModelChoiceFilter(queryset=_consortia, label=_("Whose"),
                                                  null_label=_("ORCID's (every consortium)"))
    known_error = django_filters.BooleanFilter(field_name="problem", lookup_expr="isnull", exclude=True,
                                               label=_("Known-error articles only"))

    class Meta:
        model = SavedAnswer
        fields = ["q", "consortium", "known_error"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = value.split()
        for word in words:
            queryset = queryset.filter(Q(title__icontains=word) | Q(body__icontains=word))
        return queryset
