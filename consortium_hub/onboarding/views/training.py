"""Training records: courses, completions, and support staff still missing required training."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from consortium_hub.core.access import access_scope, require_area
from consortium_hub.core.roles import ADD, VIEW
from consortium_hub.core.viewkit import form_page, paginate
from consortium_hub.onboarding.forms_training import CourseForm, TrainingRecordForm
from consortium_hub.onboarding.selectors import training as selectors
from consortium_hub.onboarding.services import training as services


@login_required
def training_overview(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "training", VIEW)
    page = paginate(request, selectors.training_record_list(user=request.user))
    return render(request, "onboarding/training.html", {
        "courses": selectors.course_list(user=request.user),
        "missing": selectors.support_staff_missing_training(user=request.user),
        "page": page, "objects": page.object_list,
        "can_add": access_scope(request.user).allows_anything("training", ADD),
    })


@login_required
def course_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "training", ADD)
    form = CourseForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.course_create(user=request.user, **data),
                     success_url="onboarding:training", success_message=_("Course added."),
                     context={"title": _("New course")})


@login_required
def training_record_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "training", ADD)
    form = TrainingRecordForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.training_record_add(user=request.user, **data),
                     success_url="onboarding:training", success_message=_("Training recorded."),
                     context={"title": _("Record a completed course")})


urlpatterns = [
    path("training/", training_overview, name="training"),
    path("training/courses/new/", course_create, name="course_create"),
    path("training/records/new/", training_record_create, name="training_record_create"),
]
