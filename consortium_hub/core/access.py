"""The one mechanism that decides what a user may see and change.

Every domain model inherits `AccessControlledModel` and declares:
- `access_area`: which row of `roles.GRANTS` applies to it;
- `consortium_path`: the ORM path from the model to its consortium's id (e.g. "organisation__consortium");
- `organisation_path`: the ORM path to its organisation's id, or None when the model sits above
  organisations (then organisation-scoped users see it only if `shared_with_members` is true).

Lists use `Model.objects.visible_to(user, action)`; single objects use `get_for_user_or_404`.
Views and API views never filter by consortium themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from consortium_hub.core.roles import ROLE_SCOPE, VIEW, Role, Scope, role_grants

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Grant:
    role: str
    consortium_id: int | None = None
    organisation_id: int | None = None
    # For organisation-scoped grants: the organisation's consortium, so members can see shared
    # consortium-level objects (their consortium's page) without seeing its other members.
    member_of_consortium_id: int | None = None


@dataclass
class AccessScope:
    """Everything the access checks need about one user, loaded once per request."""

    user_id: int | None
    grants: list[Grant] = field(default_factory=list)
    held_roles: frozenset[str] = frozenset()

    @classmethod
    def for_user(cls, user: Any) -> AccessScope:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(user_id=None)
        cached = getattr(user, "_access_scope", None)
        if cached is not None:
            return cached
        role_assignment = apps.get_model("accounts", "RoleAssignment")
        consortium_model = apps.get_model("directory", "Consortium")
        grants: list[Grant] = []
        rows = role_assignment._base_manager.filter(user_id=user.pk).values_list(
            "role", "consortium_id", "organisation_id", "organisation__consortium_id"
        )
        rows = list(rows)
        for role, consortium_id, organisation_id, org_consortium_id in rows:
            scope = ROLE_SCOPE.get(role)
            if role == Role.ORCID_ENGAGEMENT:
                continue  # expanded below: engagement leads see the consortia assigned to them
            if scope == Scope.ORCID:
                grants.append(Grant(role))
            elif scope == Scope.CONSORTIUM:
                grants.append(Grant(role, consortium_id=consortium_id))
            elif scope == Scope.ORGANISATION:
                grants.append(Grant(role, organisation_id=organisation_id, member_of_consortium_id=org_consortium_id))
        if any(role == Role.ORCID_ENGAGEMENT for role, *_ in rows):
            assigned = consortium_model.objects.filter(engagement_lead_id=user.pk).values_list("pk", flat=True)
            grants.extend(Grant(Role.ORCID_ENGAGEMENT, consortium_id=pk) for pk in assigned)
        scope = cls(user_id=user.pk, grants=grants, held_roles=frozenset(role for role, *_ in rows))
        user._access_scope = scope
        return scope

    @property
    def roles(self) -> frozenset[str]:
        return self.held_roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.held_roles.intersection(roles))

    def is_orcid_staff(self) -> bool:
        return any(ROLE_SCOPE[role] == Scope.ORCID for role in self.held_roles)

    def consortium_ids(self, area: str = "directory", action: str = VIEW) -> set[int] | None:
        """Consortia in which the user may do `action` on `area`; None means all of them."""
        ids: set[int] = set()
        for g in self.grants:
            if not role_grants(g.role, area, action):
                continue
            if ROLE_SCOPE[g.role] == Scope.ORCID and g.consortium_id is None:
                return None
            if g.consortium_id:
                ids.add(g.consortium_id)
        return ids

    def allows_anything(self, area: str, action: str) -> bool:
        return any(role_grants(g.role, area, action) for g in self.grants)

    def q_for(self, model: type[models.Model], action: str, area: str | None = None) -> Q | None:
        """A filter selecting the rows of `model` the user may `action`; None means every row.

        A model whose rows fall under different areas (an invoice from ORCID vs one from the lead)
        defines `access_q(scope, action)` and combines `q_for_area` per kind of row.
        """
        if area is None and hasattr(model, "access_q"):
            return model.access_q(self, action)
        return self.q_for_area(model, action, area or model.access_area)

    def q_for_area(self, model: type[models.Model], action: str, area: str) -> Q | None:
        consortium_path = model.consortium_path
        organisation_path = model.organisation_path
        consortia: set[int] = set()
        organisations: set[int] = set()
        member_consortia: set[int] = set()
        for g in self.grants:
            if not role_grants(g.role, area, action):
                continue
            scope = ROLE_SCOPE[g.role]
            if scope == Scope.ORCID and g.consortium_id is None:
                return None
            if g.consortium_id:
                consortia.add(g.consortium_id)
            elif g.organisation_id:
                organisations.add(g.organisation_id)
                if g.member_of_consortium_id:
                    member_consortia.add(g.member_of_consortium_id)
        q = Q(pk__in=[])
        if getattr(model, "shared_when_unscoped", False) and consortium_path and action == VIEW:
            # ORCID's own rows (no consortium: ORCID's plan templates, courses) are for every lead to see.
            if any(role_grants(g.role, area, action) for g in self.grants):
                q |= Q(**{f"{consortium_path}__isnull": True})
        if consortia and consortium_path:
            q |= Q(**{f"{consortium_path}__in": consortia})
        if organisations:
            if organisation_path:
                q |= Q(**{f"{organisation_path}__in": organisations})
            elif getattr(model, "shared_with_members", False) and consortium_path and member_consortia:
                q |= Q(**{f"{consortium_path}__in": member_consortia})
        return q

    def can(self, action: str, obj: models.Model, area: str | None = None) -> bool:
        q = self.q_for(type(obj), action, area)
        if q is None:
            return True
        return type(obj)._base_manager.filter(q, pk=obj.pk).exists()

    def can_in(self, action: str, area: str, *, consortium_id: int | None = None,
               organisation_id: int | None = None) -> bool:
        """May the user `action` objects of `area` that would belong to this consortium/organisation?

        Used before an object exists (creating, importing)."""
        for g in self.grants:
            if not role_grants(g.role, area, action):
                continue
            scope = ROLE_SCOPE[g.role]
            if scope == Scope.ORCID and g.consortium_id is None:
                return True
            if g.consortium_id and g.consortium_id == consortium_id:
                return True
            if g.organisation_id and organisation_id and g.organisation_id == organisation_id:
                return True
        return False


def any_of(*parts: tuple[Q, Q | None]) -> Q:
    """Combine (row filter, access filter) pairs for models whose rows fall under different areas.

    An access filter of None means "all rows of that kind"; see `AccessScope.q_for`.
    """
    combined = Q(pk__in=[])
    for rows, access in parts:
        # An empty Q() means "every row"; ORed into a filter it would vanish, so say it explicitly.
        rows = rows or Q(pk__isnull=False)
        combined |= rows if access is None else rows & access
    return combined


def access_scope(user: Any) -> AccessScope:
    return AccessScope.for_user(user)


class AccessQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = VIEW, area: str | None = None) -> AccessQuerySet:
        q = AccessScope.for_user(user).q_for(self.model, action, area)
        return self if q is None else self.filter(q)


class AccessControlledModel(models.Model):
    access_area: str = "directory"
    consortium_path: str | None = "consortium"
    organisation_path: str | None = None
    shared_with_members: bool = False
    # Rows with no consortium are ORCID's, readable by everyone with the area's view grant.
    shared_when_unscoped: bool = False

    objects = AccessQuerySet.as_manager()

    class Meta:
        abstract = True

    def consortium_id_for_access(self) -> int | None:
        return _follow(self, self.consortium_path)

    def organisation_id_for_access(self) -> int | None:
        return _follow(self, self.organisation_path)


def _follow(obj: Any, path: str | None) -> Any:
    if not path:
        return None
    parts = path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    last = parts[-1]
    if last == "pk":
        return obj.pk
    # Prefer the raw *_id attribute: it costs no query.
    return getattr(obj, f"{last}_id", getattr(obj, last, None))


def get_for_user_or_404(
    user: Any,
    model_or_queryset: type[M] | models.QuerySet,
    action: str = VIEW,
    *,
    area: str | None = None,
    **lookup: Any,
) -> M:
    """The one object lookup every view and API view uses.

    Invisible objects are 404 (never reveal that an id exists in another consortium); visible
    objects the user may not `action` are 403. `area` overrides the model's own area, for views
    of a model under another area's grant (the change feed shows audit records under "feed").
    """
    queryset = model_or_queryset if isinstance(model_or_queryset, models.QuerySet) else model_or_queryset.objects.all()
    try:
        obj = queryset.visible_to(user, VIEW, area).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if action != VIEW and not AccessScope.for_user(user).can(action, obj, area):
        raise PermissionDenied
    return obj


def require(user: Any, action: str, area: str, *, consortium_id: int | None = None,
            organisation_id: int | None = None) -> None:
    if not AccessScope.for_user(user).can_in(action, area, consortium_id=consortium_id,
                                             organisation_id=organisation_id):
        raise PermissionDenied


def require_area(user: Any, area: str, action: str = VIEW) -> None:
    """For pages that are not about one object: the user needs the grant somewhere."""
    if not AccessScope.for_user(user).allows_anything(area, action):
        raise PermissionDenied


def ids(objs: Iterable[models.Model]) -> list[int]:
    return [o.pk for o in objs]
