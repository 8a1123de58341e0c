"""The renewal pipeline: agreements ending in the next 30, 60 or 90 days, and those that ended
without a decision, with the notice deadline and any decision already recorded."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.agreements import selectors
from consortium_hub.agreements.filters import PipelineFilter
from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import CHANGE
from consortium_hub.core.viewkit import ListPage


def _window(request: Any) -> str:
    value = request.GET.get("window", "")
    if value == selectors.OVERDUE or (value.isdigit() and int(value) in selectors.WINDOWS):
        return value
    return str(selectors.DEFAULT_WINDOW)


class RenewalPipeline(ListPage):
    area = "agreements"
    filterset_class = PipelineFilter
    template_name = "agreements/renewal_pipeline.html"
    partial_template_name = "agreements/renewal_pipeline_table.html"

    def get_queryset(self) -> QuerySet:
        return selectors.renewal_pipeline(user=self.request.user, window=_window(self.request),
                                          today=timezone.localdate())

    def extra_context(self) -> dict[str, Any]:
        window = _window(self.request)
        params = self.request.GET.copy()
        for name in ("window", "page"):
            params.pop(name, None)
        others = params.urlencode()
        counts = selectors.pipeline_counts(user=self.request.user, today=timezone.localdate())
        labels = {"30": _("Next 30 days"), "60": _("Next 60 days"), "90": _("Next 90 days"),
                  selectors.OVERDUE: _("Ended without a decision")}
        tabs = [{"window": key, "label": labels[key], "count": counts[key], "current": key == window,
                 "query": f"window={key}" + (f"&{others}" if others else "")} for key in labels]
        scope = access_scope(self.request.user)
        return {"title": _("Renewal pipeline"), "window": window, "tabs": tabs, "current": "renewals",
                "can_decide": scope.allows_anything("agreements", CHANGE),
                # Lead agreements are decided by ORCID-wide writers only (see services.agreements.require_write).
                "can_decide_lead": scope.can_in(CHANGE, "agreements")}


urlpatterns = [
    path("renewals/", RenewalPipeline.as_view(), name="renewal_pipeline"),
]
