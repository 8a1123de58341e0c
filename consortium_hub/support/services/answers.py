"""Saved answers and known-error articles: a consortium's own (its lead staff write them) or ORCID's
(consortium None: ORCID admins and ORCID support write them; every lead reads them)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import CHANGE, VIEW
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import Problem, SavedAnswer


def can_edit_answers(user: Any, consortium_id: int | None) -> bool:
    scope = access_scope(user)
    if consortium_id is None:
        return scope.can_in(CHANGE, "orcid_support")
    return scope.can_in(CHANGE, "support_notes", consortium_id=consortium_id)


def _require_editor(user: Any, consortium_id: int | None) -> None:
    if not can_edit_answers(user, consortium_id):
        raise PermissionDenied(_("You cannot write these saved answers."))


def _check_problem(user: Any, problem: Problem | None) -> None:
    if problem is not None and not Problem.objects.visible_to(user, VIEW).filter(pk=problem.pk).exists():
        raise ValidationError({"problem": _("Choose a problem record you can see.")})


def _fill(answer: SavedAnswer, *, title: str | None, body: str | None) -> None:
    if title is not None:
        answer.title = title.strip()
    if body is not None:
        answer.body = body.strip()
    answer.full_clean()


@transaction.atomic
def answer_create(*, user: Any, consortium: Consortium | None, title: str, body: str,
                  problem: Problem | None = None) -> SavedAnswer:
    """A saved answer of `consortium` (None: ORCID's, for every lead); with `problem`, a known-error article."""
    _require_editor(user, consortium.pk if consortium is not None else None)
    _check_problem(user, problem)
    answer = SavedAnswer(consortium=consortium, problem=problem)
    _fill(answer, title=title, body=body)
    answer.save()
    return answer


@transaction.atomic
def answer_update(*, user: Any, answer: SavedAnswer, title: str | None = None, body: str | None = None,
                  problem: Problem | None = None, clear_problem: bool = False) -> SavedAnswer:
    """Change the title, text or linked problem (the owner, consortium or ORCID, never changes)."""
    _require_editor(user, answer.consortium_id)
    answer = SavedAnswer.objects.select_for_update().get(pk=answer.pk)
    if clear_problem:
        answer.problem = None
    elif problem is not None:
        _check_problem(user, problem)
        answer.problem = problem
    _fill(answer, title=title, body=body)
    answer.save()
    return answer
