from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.core.roles import Role
from consortium_hub.directory.models import Consortium
from consortium_hub.onboarding.models import Course, TrainingRecord


def course_list(*, user: Any) -> QuerySet[Course]:
    return Course.objects.visible_to(user).select_related("consortium")


def training_record_list(*, user: Any) -> QuerySet[TrainingRecord]:
    return TrainingRecord.objects.visible_to(user).select_related("course", "person", "consortium", "recorded_by")


@dataclass
class MissingTraining:
    consortium: Consortium
    person: Any
    courses: list[Course]


def support_staff_missing_training(*, user: Any) -> list[MissingTraining]:
    """Lead support staff who have not completed every course required of them (ORCID's and their lead's)."""
    staff = list(RoleAssignment.objects.visible_to(user, area="training")
                 .filter(role=Role.LEAD_SUPPORT).select_related("user", "consortium")
                 .order_by("consortium__name", "user__email"))
    required = list(Course.objects.visible_to(user).filter(required_for_support_staff=True))
    done: dict[int, set[int]] = defaultdict(set)
    for person_id, course_id in (TrainingRecord.objects.filter(person_id__in=[a.user_id for a in staff])
                                 .values_list("person_id", "course_id")):
        done[person_id].add(course_id)
    missing = []
    for assignment in staff:
        owed = [c for c in required if c.consortium_id in (None, assignment.consortium_id)
                and c.pk not in done[assignment.user_id]]
        if owed:
            missing.append(MissingTraining(assignment.consortium, assignment.user, owed))
    return missing
