"""Training records: who completed what, and support staff missing required courses."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consortium_hub.core.testing import factories as f
from consortium_hub.onboarding.models import Course
from consortium_hub.onboarding.selectors import training as selectors
from consortium_hub.onboarding.services import training as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses(cast):
    orcid_module = services.course_create(user=cast["orcid_admin"], consortium=None, title="ORCID API basics",
                                          kind=Course.Kind.ORCID_MODULE, required_for_support_staff=True)
    homework = services.course_create(user=cast["orcid_admin"], consortium=None, title="Support homework",
                                      kind=Course.Kind.HOMEWORK, required_for_support_staff=True)
    internal = services.course_create(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                      title="Our ticket desk", kind=Course.Kind.INTERNAL,
                                      required_for_support_staff=True)
    return orcid_module, homework, internal


def test_support_staff_without_required_training_are_flagged(cast, courses):
    orcid_module, homework, internal = courses
    support = cast["lead_support_a"]
    missing = selectors.support_staff_missing_training(user=cast["lead_admin_a"])
    assert [(m.person, sorted(c.title for c in m.courses)) for m in missing] == [
        (support, ["ORCID API basics", "Our ticket desk", "Support homework"])]
    for course in courses:
        services.training_record_add(user=cast["lead_admin_a"], consortium=cast.consortium_a, course=course,
                                     person=support, completed_on=dt.date(2026, 11, 2))
    assert selectors.support_staff_missing_training(user=cast["lead_admin_a"]) == []


def test_lead_b_sees_orcid_courses_but_not_a_internal_ones(cast, courses):
    titles = sorted(c.title for c in selectors.course_list(user=cast["lead_admin_b"]))
    assert titles == ["ORCID API basics", "Support homework"]


def test_leads_cannot_create_orcid_courses_or_record_for_other_consortia(cast, courses):
    with pytest.raises(PermissionDenied):
        services.course_create(user=cast["lead_admin_a"], consortium=None, title="Fake", kind="orcid_module")
    with pytest.raises(PermissionDenied):
        services.training_record_add(user=cast["lead_admin_a"], consortium=cast.consortium_b, course=courses[0],
                                     person=cast["lead_admin_b"], completed_on=dt.date(2026, 1, 1))


def test_record_needs_a_person_of_that_consortium(cast, courses):
    outsider = f.UserFactory(email="outsider@example.org")
    with pytest.raises(ValidationError):
        services.training_record_add(user=cast["lead_admin_a"], consortium=cast.consortium_a, course=courses[0],
                                     person=outsider, completed_on=dt.date(2026, 1, 1))


def test_training_page_shows_flags(cast, courses, client_for):
    response = client_for(cast["lead_admin_a"]).get(reverse("onboarding:training"))
    assert response.status_code == 200
    assert [m.person for m in response.context["missing"]] == [cast["lead_support_a"]]


def test_engagement_lead_records_orcid_training_of_the_lead(cast, courses):
    record = services.training_record_add(user=cast["engagement_lead"], consortium=cast.consortium_a,
                                          course=courses[0], person=cast["lead_admin_a"],
                                          completed_on=dt.date(2026, 2, 1))
    assert record.recorded_by == cast["engagement_lead"]
