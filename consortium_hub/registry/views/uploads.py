"""Affiliation uploads: choose the member and the file, see every row's result before anything is written,
apply, then follow the upload's rows to ORCID. The logic is in services/affiliations.py."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, VIEW
from consortium_hub.core.viewkit import ListPage
from consortium_hub.registry import validation
from consortium_hub.registry.filters import UploadFilter
from consortium_hub.registry.forms import ApplyForm, UploadForm
from consortium_hub.registry.models import AffiliationUpload, PermissionLink
from consortium_hub.registry.selectors import affiliations as selectors
from consortium_hub.registry.services import affiliations as services
from consortium_hub.registry.views.affiliations import organisation_initial, querystring

AREA = "affiliations"


class UploadList(ListPage):
    area = AREA
    selector = staticmethod(selectors.upload_list)
    filterset_class = UploadFilter
    template_name = "registry/upload_list.html"
    partial_template_name = "registry/upload_list_table.html"

    def extra_context(self) -> dict[str, Any]:
        return {"title": _("Uploads"), "can_add": access_scope(self.request.user).allows_anything(AREA, ADD)}


@login_required
def upload_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, ADD)
    form = UploadForm(request.POST or None, request.FILES or None,
                      organisations=selectors.organisations_for_upload(user=request.user),
                      initial=organisation_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            upload = services.preview_upload(user=request.user, organisation=form.cleaned_data["organisation"],
                                             uploaded_file=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            url = reverse("registry:upload_detail", args=[upload.pk])
            return redirect(f"{url}?language={form.cleaned_data['language']}")
    return render(request, "registry/upload_form.html", {
        "form": form, "title": _("Upload affiliations"), "columns": validation.COLUMNS,
        "required": validation.REQUIRED_COLUMNS})


def _upload(request: HttpRequest, pk: int, action: str = VIEW) -> AffiliationUpload:
    return get_for_user_or_404(request.user, selectors.upload_detail(user=request.user), action, pk=pk)


def _language(request: HttpRequest, upload: AffiliationUpload) -> str:
    chosen = request.GET.get("language")
    return chosen if chosen in PermissionLink.Language.values else upload.language


SHOW_CHOICES = ("all", "problems")
PREVIEW_PAGE_SIZE = 100


@login_required
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Before it is applied: every row's result. After: what became of its rows in ORCID."""
    upload = _upload(request, pk)
    earlier = services.applied_earlier(upload)
    context: dict[str, Any] = {"upload": upload, "title": str(upload), "earlier": earlier,
                               "file_problems": [p for p in upload.problems or [] if p.get("row") is None]}
    if upload.applied_at is None:
        rows = services.preview_rows(upload)
        show = request.GET.get("show") if request.GET.get("show") in SHOW_CHOICES else "all"
        shown = [r for r in rows if r.problems] if show == "problems" else rows
        page = Paginator(shown, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        can_apply = earlier is None and upload.rows_accepted > 0 and access_scope(request.user).can(CHANGE, upload)
        context.update({
            "actions": Counter(r.action for r in rows), "show": show, "page": page, "objects": page.object_list,
            "querystring": querystring(request), "can_apply": can_apply,
            "apply_form": ApplyForm(initial={"language": _language(request, upload)}) if can_apply else None,
        })
    else:
        context["summary"] = selectors.upload_status_summary(upload)
    return render(request, "registry/upload_detail.html", context)


@login_required
@require_POST
def upload_apply(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload(request, pk, CHANGE)
    form = ApplyForm(request.POST)
    language = form.cleaned_data["language"] if form.is_valid() else upload.language
    try:
        services.apply_upload(user=request.user, upload=upload, language=language)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("Applied. The rows are on their way to ORCID; this page shows where each "
                                    "stands, and the uploader gets a summary by email when all are done."))
    return redirect("registry:upload_detail", pk=upload.pk)


urlpatterns = [
    path("uploads/", UploadList.as_view(), name="upload_list"),
    path("uploads/new/", upload_create, name="upload_create"),
    path("uploads/<int:pk>/", upload_detail, name="upload_detail"),
    path("uploads/<int:pk>/apply/", upload_apply, name="upload_apply"),
]
