"""Pages of the bulk import: upload, preview, confirm. The logic is in directory.importing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from consortium_hub.core.imports import size_problem
from consortium_hub.directory import importing, tabular
from consortium_hub.directory.models import ContactRole
from consortium_hub.directory.models_import import ImportBatch


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"), allow_empty_file=True,
                           help_text=gettext_lazy("The columns of the directory's export; the first row names them."))

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, label) for k, label in ImportBatch.Kind.choices if k in kinds]


def _kinds_or_403(user: Any) -> list[str]:
    kinds = importing.allowed_kinds(user)
    if not kinds:
        raise PermissionDenied
    return kinds


def _read_upload(upload: Any) -> tuple[bytes | None, int]:
    """The upload's bytes, unless it is over the limit (then only its size matters)."""
    if size_problem(upload.size) is not None:
        return None, upload.size
    return upload.read(), upload.size


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    kinds = _kinds_or_403(request.user)
    initial_kind = request.GET.get("kind") if request.GET.get("kind") in kinds else kinds[0]
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds, initial={"kind": initial_kind})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content, size = _read_upload(upload)
        try:
            batch = importing.create_batch(user=request.user, kind=form.cleaned_data["kind"], filename=upload.name,
                                           content=content, size=size)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            return redirect("directory:import_preview", pk=batch.pk)
    return render(request, "directory/import_start.html", {
        "form": form, "title": _("Import organisations or contacts"),
        "columns": {"organisations": tabular.ORGANISATION_COLUMNS, "contacts": tabular.CONTACT_COLUMNS},
        "role_keys": ContactRole.Kind.values,
    })


@login_required
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(importing.batches_for(request.user), pk=pk)
    if request.htmx and request.GET.get("status"):
        # The status poll: once the job has finished, reload the whole page to show the outcome.
        if batch.status != ImportBatch.Status.QUEUED:
            return HttpResponseClientRefresh()
        return render(request, "directory/_import_status.html", {"batch": batch})
    preview = batch.preview or {}
    rows = preview.get("rows", [])
    show = request.GET.get("show", "all")
    if show == "problems":
        rows = [r for r in rows if r.get("problems")]
    kinds = importing.allowed_kinds(request.user)
    return render(request, "directory/import_preview.html", {
        "batch": batch, "title": _("Import preview"), "rows": rows, "show": show,
        "file_problems": preview.get("file_problems", []), "failure": preview.get("failure", []),
        "upload_form": ImportUploadForm(kinds=kinds, initial={"kind": batch.kind}) if kinds else None,
    })


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(importing.batches_for(request.user), pk=pk)
    if batch.status != ImportBatch.Status.PREVIEWED:
        messages.info(request, _("This import was already confirmed."))
    elif not batch.can_confirm:
        messages.error(request, _("This file has problems; correct them and upload it again."))
    elif importing.confirm_batch(batch=batch, user=request.user):
        messages.success(request, _("Import confirmed. It runs in the background; this page shows when it is done."))
    else:
        messages.info(request, _("This import was already confirmed."))
    return redirect("directory:import_preview", pk=batch.pk)
