"""Billing API: billing cycles, over the same selectors and services as the pages.

  /api/v1/billing/cycles/                 list; POST {consortium, year}: open the cycle (idempotent)
  /api/v1/billing/cycles/<id>/            retrieve
  /api/v1/billing/cycles/<id>/dry-run/    GET: every invoice a commit would issue now, members left out and
                                          why, totals per issuer and currency, warnings
  /api/v1/billing/cycles/<id>/commit/     POST: issue them (201; 200 with nothing created when every member
                                          is invoiced already)

ORCID's invoice to the lead appears in the dry run for those who may see ORCID's invoices (ORCID
finance, the lead's finance staff); others get only its line count. Amounts are decimal strings.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.billing.forms_cycles import CycleFilter
from consortium_hub.billing.models import BillingCycle, Invoice
from consortium_hub.billing.selectors import cycles as selectors
from consortium_hub.billing.services import cycles as services
from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Consortium


class CycleSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="billing")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    invoice_count = serializers.IntegerField(read_only=True, default=0)
    last_committed_by = serializers.CharField(source="last_committed_by.email", read_only=True, default=None)

    class Meta:
        model = BillingCycle
        fields = ["id", "consortium", "year", "status", "invoice_count", "last_committed_at", "last_committed_by",
                  "created_at", "updated_at"]
        read_only_fields = ["status", "last_committed_at", "created_at", "updated_at"]
        validators: list = []  # opening an open cycle again returns it


class IssuedInvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ["id", "issuer", "number", "recipient_organisation", "currency", "subtotal", "tax_total", "total",
                  "issue_date", "due_date"]
        read_only_fields = fields


class BillingCycleViewSet(mixins.CreateModelMixin, AccessViewSet):
    access_area = "billing"
    serializer_class = CycleSerializer
    selector = staticmethod(selectors.cycle_list)
    filterset_class = CycleFilter
    ordering_fields = ["year", "consortium__name", "last_committed_at"]

    def perform_create(self, serializer: Any) -> None:
        cycle = services.cycle_open(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=cycle.pk)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path="dry-run")
    def dry_run(self, request: Request, pk: Any = None) -> Response:
        cycle = self.get_object()
        run = services.cycle_dry_run(user=request.user, consortium=cycle.consortium, year=cycle.year)
        return Response(selectors.dry_run_as_dict(
            run, include_orcid=selectors.can_see_orcid_invoices(request.user, cycle.consortium)))

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: Any = None) -> Response:
        cycle = self.get_object()
        result = services.cycle_commit(user=request.user, consortium=cycle.consortium, year=cycle.year)
        show_orcid = selectors.can_see_orcid_invoices(request.user, cycle.consortium)
        body = {
            "created": result.created,
            "member_invoices": IssuedInvoiceSerializer(result.member_invoices, many=True).data,
            "orcid_invoices": (IssuedInvoiceSerializer(result.orcid_invoices, many=True).data if show_orcid
                               else [{"id": None, "issuer": "orcid"} for _ in result.orcid_invoices]),
            "cycle": self.get_serializer(self.get_queryset().get(pk=cycle.pk)).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


def register(router) -> None:
    """Add this part's viewsets to the billing router."""
    router.register("cycles", BillingCycleViewSet, basename="billing-cycle")
