"""Training records: courses, completions, and who still needs required training."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.core.access import require
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium
from consortium_hub.onboarding.models import Course, TrainingRecord


@transaction.atomic
def course_create(*, user: Any, consortium: Consortium | None, title: str, kind: str, description: str = "",
                  url: str = "", required_for_support_staff: bool = False) -> Course:
    """consortium=None makes an ORCID course every lead sees; only ORCID staff with the grant may."""
    require(user, ADD, "training", consortium_id=consortium.pk if consortium else None)
    course = Course(consortium=consortium, title=title, kind=kind, description=description, url=url,
                    required_for_support_staff=required_for_support_staff)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def training_record_add(*, user: Any, consortium: Consortium, course: Course, person: Any,
                        completed_on: dt.date, note: str = "") -> TrainingRecord:
    require(user, ADD, "training", consortium_id=consortium.pk)
    if course.consortium_id not in (None, consortium.pk):
        raise ValidationError({"course": _("This course belongs to another consortium.")})
    if not RoleAssignment.objects.filter(user=person, consortium=consortium).exists():
        raise ValidationError({"person": _("%(p)s holds no role in %(c)s.") % {"p": person, "c": consortium}})
    if TrainingRecord.objects.filter(course=course, person=person, completed_on=completed_on).exists():
        raise ValidationError(_("This completion is already recorded."))
    record = TrainingRecord(consortium=consortium, course=course, person=person, completed_on=completed_on,
                            note=note, recorded_by=user)
    record.full_clean()
    record.save()
    return record
