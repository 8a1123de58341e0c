"""API of agreements and renewal decisions: read through the selectors, write through the services."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.agreements import selectors
from consortium_hub.agreements.api import serializers as s
from consortium_hub.agreements.filters import AgreementFilter, DecisionFilter
from consortium_hub.agreements.services import agreements as services
from consortium_hub.agreements.services.renewals import renewal_decide
from consortium_hub.core.api.viewsets import AccessViewSet


class AgreementViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    """Agreements the user can see; create and update (lead admins: member agreements of their consortium;
    ORCID admins: any), record the renewal decision, download the signed PDF."""

    access_area = "agreements"
    serializer_class = s.AgreementSerializer
    selector = staticmethod(selectors.agreement_list)
    filterset_class = AgreementFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.agreement_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.agreement_update(user=self.request.user, agreement=serializer.instance,
                                                        **serializer.validated_data)

    @extend_schema(request=s.DecideSerializer, responses={201: s.DecisionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: Any = None) -> Response:
        """Record the renewal decision of this term (one per term): renew, change_tier or terminate."""
        agreement = self.get_object()
        body = s.DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = renewal_decide(user=request.user, agreement=agreement, **body.validated_data)
        return Response(s.DecisionSerializer(decision, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The signed agreement")})
    @action(detail=True, methods=["get"])
    def document(self, request: Request, pk: Any = None) -> FileResponse:
        """The signed agreement (PDF), as a download."""
        agreement = self.get_object()
        if not agreement.document:
            raise Http404
        return FileResponse(agreement.document.open("rb"), as_attachment=True,
                            filename=f"agreement-{agreement.pk}.pdf", content_type="application/pdf")


class DecisionViewSet(AccessViewSet):
    """Renewal decisions the user can see (newest first)."""

    access_area = "agreements"
    serializer_class = s.DecisionSerializer
    selector = staticmethod(selectors.decision_list)
    filterset_class = DecisionFilter
