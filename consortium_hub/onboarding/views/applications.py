"""Pages for membership applications (see docs/architecture.md).

Public (anonymous): the application page of each open consortium, and the applicant's private
link (view; edit and resubmit when changes were asked for). Signed in: the review list, the
detail with possible duplicates, and the review actions (POST, through the services).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page
from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.onboarding.forms_applications import ApplicationForm, ResubmitForm, StaffApplicationForm
from consortium_hub.onboarding.models import Application
from consortium_hub.onboarding.selectors import applications as selectors
from consortium_hub.onboarding.services import applications as services

FORM_TEMPLATE = "onboarding/application_form.html"
# A light brake on floods from one address; a real applicant sends one or two.
SUBMISSIONS_PER_HOUR = getattr(settings, "APPLICATION_SUBMISSIONS_PER_HOUR", 10)


# --- Public: apply, view and correct through the private link ------------------------------------

def _throttle_key(request: HttpRequest) -> str:
    return f"onboarding:apply:{request.META.get('REMOTE_ADDR', '')}"


def _throttled(request: HttpRequest) -> bool:
    return (cache.get(_throttle_key(request)) or 0) >= SUBMISSIONS_PER_HOUR


def _count_submission(request: HttpRequest) -> None:
    key = _throttle_key(request)
    if not cache.add(key, 1, timeout=3600):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.set(key, 1, timeout=3600)


def _refuse_if_throttled_or_bot(request: HttpRequest, form: ApplicationForm, consortium: Consortium
                                ) -> HttpResponse | None:
    if request.method != "POST":
        return None
    if _throttled(request):
        return render(request, "onboarding/application_throttled.html", {"consortium": consortium}, status=429)
    if form.honeypot_filled():
        # Say nothing a bot could learn from; store and send nothing.
        _count_submission(request)
        return render(request, "onboarding/application_received.html", {"consortium": consortium})
    return None


def _private(response: HttpResponse) -> HttpResponse:
    """Pages opened by a private link: never cached, never indexed, the link never leaked as a referrer."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def apply(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = selectors.open_consortium(pk=consortium_pk)
    form = ApplicationForm(request.POST or None, request.FILES or None)
    refused = _refuse_if_throttled_or_bot(request, form, consortium)
    if refused is not None:
        return refused

    def save(data: dict[str, Any]) -> services.Submission:
        submission = services.application_submit(consortium=consortium, user=None, **form.service_data())
        _count_submission(request)
        return submission

    return form_page(
        request, form=form, template=FORM_TEMPLATE, save=save,
        success_url=lambda submission: submission.status_path,
        success_message=_("Thank you: your application has been submitted. We have sent a confirmation to your "
                          "email address with a private link to this page."),
        context={"title": _("Apply to join %(consortium)s") % {"consortium": consortium}, "consortium": consortium,
                 "public": True, "submit_label": _("Submit application")})


def _by_token_or_404(token: str) -> Application:
    application = selectors.application_for_token(token=token)
    if application is None:
        raise Http404
    return application


@never_cache
def application_status(request: HttpRequest, token: str) -> HttpResponse:
    application = _by_token_or_404(token)
    return _private(render(request, "onboarding/application_status.html", {
        "application": application, "token": token,
        "can_edit": application.status == Application.Status.CHANGES_REQUESTED}))


@never_cache
def application_resubmit(request: HttpRequest, token: str) -> HttpResponse:
    application = _by_token_or_404(token)
    if application.status != Application.Status.CHANGES_REQUESTED:
        messages.info(request, _("This application is not waiting for changes, so it cannot be edited."))
        return redirect("onboarding:application_status", token=token)
    form = ResubmitForm(request.POST or None, request.FILES or None, instance=application)
    refused = _refuse_if_throttled_or_bot(request, form, application.consortium)
    if refused is not None:
        return refused
    response = form_page(
        request, form=form, template=FORM_TEMPLATE,
        save=lambda data: services.application_resubmit(application=application, token=token,
                                                        **form.service_data()),
        success_url=reverse("onboarding:application_status", args=[token]),
        success_message=_("Thank you: your changes have been sent. The consortium will review the application "
                          "again."),
        context={"title": _("Change your application to %(consortium)s") % {"consortium": application.consortium},
                 "consortium": application.consortium, "application": application, "public": True,
                 "submit_label": _("Resubmit application"),
                 "cancel_url": reverse("onboarding:application_status", args=[token])})
    return _private(response)


# --- Lead staff: list, enter by hand, review -------------------------------------------------------

class ApplicationList(ListPage):
    area = "onboarding"
    selector = staticmethod(selectors.application_list)
    filterset_class = selectors.ApplicationFilter
    template_name = "onboarding/application_list.html"
    partial_template_name = "onboarding/application_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        user = self.request.user
        public_pages = (Consortium.objects.visible_to(user, ADD, area="onboarding")
                        .filter(status__in=selectors.OPEN_CONSORTIUM_STATUSES).order_by("name"))
        return {"title": _("Membership applications"),
                "can_add": access_scope(user).allows_anything("onboarding", ADD),
                "public_pages": [(c, self.request.build_absolute_uri(reverse("onboarding:apply", args=[c.pk])))
                                 for c in public_pages]}


@login_required
def application_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "onboarding", ADD)
    form = StaffApplicationForm(request.POST or None, request.FILES or None, user=request.user,
                                initial={"consortium": request.GET.get("consortium")})
    return form_page(
        request, form=form, template=FORM_TEMPLATE,
        save=lambda data: services.application_submit(consortium=data["consortium"], user=request.user,
                                                      **form.service_data()),
        success_url=lambda submission: reverse("onboarding:application_detail", args=[submission.application.pk]),
        success_message=_("Application recorded. The applicant has been sent a confirmation."),
        context={"title": _("New application"), "submit_label": _("Save application"),
                 "cancel_url": reverse("onboarding:application_list")})


def _plan_url(plan: Any) -> str:
    """The plan's page, once the plans part has one."""
    if plan is None:
        return ""
    try:
        return reverse("onboarding:plan_detail", args=[plan.pk])
    except NoReverseMatch:
        return ""


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_for_user_or_404(request.user, selectors.application_list(user=request.user), pk=pk)
    is_open = application.status in (Application.Status.SUBMITTED, Application.Status.CHANGES_REQUESTED)
    duplicates = selectors.application_duplicates(user=request.user, application=application) if is_open else None
    plan = selectors.plan_for(application=application)
    return render(request, "onboarding/application_detail.html", {
        "application": application, "duplicates": duplicates, "is_open": is_open,
        "can_review": is_open and services.can_review(request.user, application.consortium_id),
        "can_approve": application.status == Application.Status.SUBMITTED,
        "plan": plan, "plan_url": _plan_url(plan),
    })


@login_required
def application_document(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_for_user_or_404(request.user, Application, pk=pk)
    if not application.attachment:
        raise Http404
    # Sent as a download: uploaded content is never rendered inside the hub's origin.
    return FileResponse(application.attachment.open("rb"), as_attachment=True,
                        filename=f"application-{application.pk}.pdf", content_type="application/pdf")


class ApplicationHistory(HistoryPage):
    model = Application
    template_name = "onboarding/application_history.html"


def _review(request: HttpRequest, pk: int, act: Any, success: str) -> HttpResponse:
    application = get_for_user_or_404(request.user, Application, CHANGE, pk=pk)
    try:
        result = act(application)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
        for note in getattr(result, "notes", ()):
            messages.warning(request, note)
    return redirect("onboarding:application_detail", pk=pk)


@login_required
@require_POST
def application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    choice = request.POST.get("organisation", "new").strip()
    organisation = None
    if choice not in ("", "new"):
        organisation = get_for_user_or_404(request.user, Organisation, pk=choice)
    return _review(request, pk, lambda application: services.application_approve(
        user=request.user, application=application, organisation=organisation),
        _("Application approved: the member is onboarding and its onboarding plan has started."))


@login_required
@require_POST
def application_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _review(request, pk, lambda application: services.application_decline(
        user=request.user, application=application, reason=request.POST.get("reason", "")),
        _("Application declined. The applicant has been told why."))


@login_required
@require_POST
def application_request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    return _review(request, pk, lambda application: services.application_request_changes(
        user=request.user, application=application, message=request.POST.get("message", "")),
        _("Changes requested. The applicant has been sent a link to edit and resubmit the application."))


urlpatterns = [
    path("apply/<int:consortium_pk>/", apply, name="apply"),
    path("apply/application/<str:token>/", application_status, name="application_status"),
    path("apply/application/<str:token>/edit/", application_resubmit, name="application_resubmit"),
    path("applications/", ApplicationList.as_view(), name="application_list"),
    path("applications/new/", application_create, name="application_create"),
    path("applications/<int:pk>/", application_detail, name="application_detail"),
    path("applications/<int:pk>/document/", application_document, name="application_document"),
    path("applications/<int:pk>/history/", ApplicationHistory.as_view(), name="application_history"),
    path("applications/<int:pk>/approve/", application_approve, name="application_approve"),
    path("applications/<int:pk>/decline/", application_decline, name="application_decline"),
    path("applications/<int:pk>/request-changes/", application_request_changes,
         name="application_request_changes"),
]
