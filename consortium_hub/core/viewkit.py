"""Building blocks every area's pages use: access-checked lists, details, forms and history.

A page declares its selector, filterset and template; access, pagination, sorting and htmx
partial rendering happen here once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import VIEW

PAGE_SIZES = (25, 50, 100)


class ListPage(LoginRequiredMixin, View):
    """A filtered, sorted, paginated list; htmx requests get only the table."""

    template_name: str = ""
    partial_template_name: str = ""
    filterset_class: Any = None
    area: str = "directory"
    title: str = ""

    # The area's selector, e.g. staticmethod(selectors.organisation_list); it applies visible_to.
    selector: Any = None

    def get_queryset(self) -> QuerySet:
        return self.selector(user=self.request.user)

    def extra_context(self) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_area(request.user, self.area, VIEW)
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        queryset = filterset.qs if filterset.is_bound else filterset.queryset
        page = paginate(request, queryset)
        context = {"filter": filterset, "page": page, "objects": page.object_list, "title": self.title,
                   "querystring": _querystring_without_page(request), **self.extra_context()}
        template = self.partial_template_name if request.htmx and self.partial_template_name else self.template_name
        return render(request, template, context)


def paginate(request: HttpRequest, queryset: QuerySet) -> Any:
    try:
        per_page = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        per_page = PAGE_SIZES[0]
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def form_page(request: HttpRequest, *, form: Form, template: str, save: Any, success_url: Any,
              success_message: str, context: dict[str, Any] | None = None) -> HttpResponse:
    """Validate `form`; on success call `save(cleaned_data)` (a service) and redirect.

    A ValidationError from the service lands on the form, field by field when it names fields.
    """
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, success_message)
            return redirect(success_url(obj) if callable(success_url) else success_url)
    return render(request, template, {"form": form, **(context or {})})


def _errors_to_form(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def history_for(obj: Any) -> QuerySet[ChangeRecord]:
    """The change log of one object and of the parts shown on its page (its audit children)."""
    ct = ContentType.objects.get_for_model(type(obj))
    return (ChangeRecord.objects.filter(Q(content_type=ct, object_id=str(obj.pk))
                                        | Q(parent_content_type=ct, parent_object_id=str(obj.pk)))
            .select_related("user", "content_type"))


class HistoryPage(LoginRequiredMixin, View):
    """The History tab of any object the user can see."""

    model: Any = None
    template_name = "core/history.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_for_user_or_404(request.user, self.model, pk=pk)
        page = paginate(request, history_for(obj))
        return render(request, self.template_name, {"object": obj, "page": page, "objects": page.object_list,
                                                    "querystring": _querystring_without_page(request)})


def can(request: HttpRequest, action: str, obj: Any) -> bool:
    return access_scope(request.user).can(action, obj)
