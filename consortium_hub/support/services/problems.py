"""ORCID's problem management: problems (PRB-000123), the incidents linked to them, known errors.

Rules
-----
- Only ORCID-wide holders of the `problems` grant (ORCID support, ORCID admins) write problems; leads
  read the problems their tickets link to (see `selectors.problems`).
- Incidents are linked by ticket; a user links only tickets they can see (ORCID support: escalated
  tickets of any consortium).
- States: new → investigating → root cause known → known error → resolved → closed (any order is
  allowed, but `root_cause_known` needs a root cause and `known_error` needs a workaround: a known
  error is one the leads can work around).
- A known-error article is a SavedAnswer with no consortium (every lead sees it) linked to the
  problem; publishing again updates it.
- Entering `resolved` stamps `resolved_at` and emails the owners of every linked ticket (its assignee,
  else its consortium's lead support staff), each ticket once ever
  (`once("problem-resolved:<problem>:<ticket>")`), so reopening and resolving again tells no one twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope, require
from consortium_hub.core.email import send_templated_email
from consortium_hub.core.roles import ADD, CHANGE, DELETE, ORCID_ROLES
from consortium_hub.jobs.queue import once
from consortium_hub.support.models import Problem, SavedAnswer, Ticket
from consortium_hub.support.services.escalation import lead_ticket_url, ticket_owner_emails

AREA = "problems"
PREFIX = "PRB-"
EDITABLE_FIELDS = ("title", "description", "state", "root_cause", "workaround", "owner")
EMAIL_RESOLVED = "support/email/problem_resolved"


def format_reference(number: int) -> str:
    return f"{PREFIX}{number:06d}"


def _next_reference() -> str:
    last = (Problem.objects.filter(reference__startswith=PREFIX).order_by("-reference")
            .values_list("reference", flat=True).first())
    try:
        number = int(last[len(PREFIX):]) + 1 if last else 1
    except ValueError:
        number = Problem.objects.count() + 1
    return format_reference(number)


def _require_change(user: Any, problem: Problem, action: str = CHANGE) -> None:
    if not access_scope(user).can(action, problem):
        raise PermissionDenied(_("Only ORCID support manages problems."))


def _check_owner(owner: Any) -> None:
    if owner is not None and not owner.role_assignments.filter(role__in=ORCID_ROLES).exists():
        raise ValidationError({"owner": _("The owner of a problem is a member of ORCID staff.")})


def _check_state(problem: Problem) -> None:
    errors = {}
    if problem.state == Problem.State.ROOT_CAUSE_KNOWN and not problem.root_cause.strip():
        errors["root_cause"] = _("Record the root cause before marking it known.")
    if problem.state == Problem.State.KNOWN_ERROR and not problem.workaround.strip():
        errors["workaround"] = _("A known error needs a workaround for the leads.")
    if errors:
        raise ValidationError(errors)


def visible_ticket(user: Any, reference: str) -> Ticket:
    """The ticket with this reference, if the user can see it (else a ValidationError)."""
    reference = (reference or "").strip()
    ticket = Ticket.objects.visible_to(user).filter(reference__iexact=reference).first() if reference else None
    if ticket is None:
        raise ValidationError({"ticket": _("No ticket %(ref)s that you can see.") % {"ref": reference or "—"}})
    return ticket


@transaction.atomic
def problem_create(*, user: Any, title: str, description: str = "", state: str = Problem.State.NEW,
                   root_cause: str = "", workaround: str = "", owner: Any = None,
                   tickets: Any = (), now: dt.datetime | None = None) -> Problem:
    """A new problem (reference PRB-000001, …), optionally with its first incidents linked."""
    require(user, ADD, AREA)
    _check_owner(owner)
    problem = Problem(title=(title or "").strip(), description=description or "", state=state,
                      root_cause=root_cause or "", workaround=workaround or "", owner=owner)
    _check_state(problem)
    for attempt in range(5):
        problem.reference = _next_reference()
        problem.full_clean()
        try:
            with transaction.atomic():
                problem.save()
            break
        except IntegrityError:  # a concurrent creator took the number: take the next one
            problem.pk = None
            if attempt == 4:
                raise
    for ticket in tickets:
        _link(user, problem, ticket)
    if problem.state == Problem.State.RESOLVED:
        _resolved(problem, now or timezone.now())
    return problem


@transaction.atomic
def problem_create_from_ticket(*, user: Any, ticket: Ticket, title: str = "", description: str = "",
                               **fields: Any) -> Problem:
    """A problem opened from an incident: its subject and escalation summary start the record."""
    return problem_create(user=user, title=title or ticket.subject,
                          description=description or ticket.escalation_summary, tickets=[ticket], **fields)


@transaction.atomic
def problem_update(*, user: Any, problem: Problem, now: dt.datetime | None = None, **data: Any) -> Problem:
    """Change any of title, description, state, root cause, workaround, owner."""
    _require_change(user, problem)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"problem_update() got unexpected fields: {', '.join(sorted(unknown))}")
    Problem.objects.select_for_update().filter(pk=problem.pk).exists()
    was = Problem.objects.values_list("state", flat=True).get(pk=problem.pk)
    if "owner" in data:
        _check_owner(data["owner"])
    for name, value in data.items():
        setattr(problem, name, value if value is not None or name == "owner" else "")
    _check_state(problem)
    if problem.state not in (Problem.State.RESOLVED, Problem.State.CLOSED):
        problem.resolved_at = None
    problem.full_clean()
    problem.save()
    if problem.state == Problem.State.RESOLVED and was != Problem.State.RESOLVED:
        _resolved(problem, now or timezone.now())
    return problem


@transaction.atomic
def problem_delete(*, user: Any, problem: Problem) -> None:
    _require_change(user, problem, DELETE)
    problem.delete()


def _link(user: Any, problem: Problem, ticket: Ticket) -> None:
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": _("No ticket %(ref)s that you can see.") % {"ref": ticket.reference}})
    problem.tickets.add(ticket)


@transaction.atomic
def problem_link_ticket(*, user: Any, problem: Problem, ticket: Ticket) -> Problem:
    """Link an incident (from any consortium the user can see) to the problem."""
    _require_change(user, problem)
    if problem.tickets.filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": _("%(ref)s is already linked.") % {"ref": ticket.reference}})
    _link(user, problem, ticket)
    problem.save(update_fields=["updated_at"])
    return problem


@transaction.atomic
def problem_unlink_ticket(*, user: Any, problem: Problem, ticket: Ticket) -> Problem:
    _require_change(user, problem)
    if not problem.tickets.filter(pk=ticket.pk).exists():
        raise ValidationError({"ticket": _("%(ref)s is not linked to this problem.") % {"ref": ticket.reference}})
    problem.tickets.remove(ticket)
    problem.save(update_fields=["updated_at"])
    return problem


@transaction.atomic
def problem_publish_article(*, user: Any, problem: Problem, title: str, body: str) -> SavedAnswer:
    """Publish (or update) the known-error article every lead can use: a SavedAnswer of ORCID's."""
    _require_change(user, problem)
    if problem.state != Problem.State.KNOWN_ERROR:
        raise ValidationError(_("Publish an article once the problem is a known error."))
    article = problem.articles.filter(consortium__isnull=True).first() or SavedAnswer(consortium=None,
                                                                                      problem=problem)
    article.title = (title or "").strip()
    article.body = (body or "").strip()
    article.full_clean()
    article.save()
    return article


def _resolved(problem: Problem, now: dt.datetime) -> None:
    problem.resolved_at = now
    problem.save(update_fields=["resolved_at", "updated_at"])
    tickets = list(problem.tickets.select_related("assignee", "consortium").order_by("pk"))
    owners = ticket_owner_emails(tickets)
    url = settings.SITE_URL + reverse("support:problem_detail", args=[problem.pk])
    for ticket in tickets:
        to = owners.get(ticket.pk) or []
        if to and once(f"problem-resolved:{problem.pk}:{ticket.pk}"):
            send_templated_email(to=to, template=EMAIL_RESOLVED, context={
                "problem": problem, "ticket": ticket, "consortium": ticket.consortium, "problem_url": url,
                "ticket_url": lead_ticket_url(ticket)})
