"""Billing API: reports.

  /api/v1/billing/reports/receivables/   GET (?issuer= ?consortium= ?currency=): what is still owed on issued
                                         invoices today, per issuer, consortium and currency, by days past due
                                         (not_due, days_0_30, days_31_60, days_61_90, days_over_90), with
                                         per-currency totals. Only the invoices the caller may see count.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.billing.api.invoices import BillingPermission
from consortium_hub.billing.forms_invoices import ReceivablesForm
from consortium_hub.billing.selectors import reports as selectors


def _row(row: selectors.ReceivablesRow) -> dict[str, Any]:
    return {"issuer": row.issuer or None, "consortium": row.consortium_id or None,
            "consortium_name": row.consortium or None, "currency": row.currency, "invoices": row.invoices,
            **{key: str(amount) for key, amount, _shown in row.cells}, "total": str(row.total)}


class ReceivablesViewSet(viewsets.ViewSet):
    permission_classes = [BillingPermission]

    @extend_schema(parameters=[OpenApiParameter("issuer", str), OpenApiParameter("consortium", int),
                               OpenApiParameter("currency", str)], responses={200: OpenApiTypes.OBJECT})
    def list(self, request: Request) -> Response:
        form = ReceivablesForm(request.query_params or None, user=request.user)
        if form.is_bound and not form.is_valid():
            return Response(form.errors, status=400)
        report = selectors.receivables(user=request.user, today=timezone.localdate(), **form.filters())
        return Response({"today": report.today.isoformat(), "buckets": [key for key, _label in selectors.BUCKETS],
                         "rows": [_row(r) for r in report.rows], "totals": [_row(r) for r in report.totals]})


def register(router) -> None:
    """Add this part's viewsets to the billing router."""
    router.register("reports/receivables", ReceivablesViewSet, basename="receivables")
