"""Billing API: fee schedules, over the same selectors and services as the pages.

  /api/v1/billing/fee-schedules/          list, create (with `rates`)
  /api/v1/billing/fee-schedules/<id>/     retrieve (with `warnings`), update (PUT/PATCH), delete
  /api/v1/billing/fee-schedules/copy/     POST {consortium, year}: the year's schedule as a copy of the last

`rates` is the whole set of a schedule's rates: [{kind, tier, size, amount}] (size "" for licence fees).
Sending it on update replaces the set (a rate left out is removed); leaving it out keeps the rates.
Amounts are decimal strings. `warnings` lists licence fees that rose more than 3% (never refused).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.billing.forms_fees import FeeScheduleFilter
from consortium_hub.billing.models import AMOUNT, LICENCE_CURRENCY, FeeKind, FeeSchedule
from consortium_hub.billing.selectors import fees as selectors
from consortium_hub.billing.services import fees as services
from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.money import round_money
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Consortium, Membership


class FeeRateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FeeKind.choices)
    tier = serializers.ChoiceField(choices=Membership.Tier.choices)
    size = serializers.ChoiceField(choices=[("", "—"), *Membership.Size.choices], required=False, allow_blank=True,
                                   default="")
    amount = serializers.DecimalField(min_value=0, **AMOUNT)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    tier = serializers.CharField()
    previous_year = serializers.IntegerField()
    previous = serializers.CharField()
    current = serializers.CharField()
    percent = serializers.CharField()
    message = serializers.CharField()


class FeeScheduleSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="billing")
    rates = FeeRateSerializer(many=True, required=False)
    licence_currency = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    consortium_fee_currency = serializers.CharField(max_length=3, required=False, allow_blank=True)

    class Meta:
        model = FeeSchedule
        fields = ["id", "consortium", "year", "size_band", "licence_currency", "consortium_fee_currency", "rates",
                  "warnings", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # one schedule per consortium and year: the service reports it on `year`

    def get_licence_currency(self, schedule: FeeSchedule) -> str:
        return LICENCE_CURRENCY

    def get_warnings(self, schedule: FeeSchedule) -> list[dict[str, Any]]:
        rises = self.context.get("rises")
        found = rises.get(schedule.pk, []) if rises is not None else selectors.licence_rises(schedule)
        return WarningSerializer([r.as_dict() for r in found], many=True).data

    def to_representation(self, schedule: FeeSchedule) -> dict[str, Any]:
        data = super().to_representation(schedule)
        data["rates"] = [{"kind": r.kind, "tier": r.tier, "size": r.size,
                          "amount": str(round_money(r.amount, selectors.rate_currency(schedule, r.kind)))}
                         for r in schedule.rates.all()]
        return data


def _rates(items: list[dict[str, Any]] | None) -> dict | None:
    if items is None:
        return None
    rates = {}
    for item in items:
        size = item.get("size") or ""
        if item["kind"] == FeeKind.LICENCE and size:
            raise serializers.ValidationError({"rates": "Licence fees have no member size (the schedule's band)."})
        if item["kind"] == FeeKind.CONSORTIUM and not size:
            raise serializers.ValidationError({"rates": "Consortium fees need a member size."})
        key = (item["kind"], item["tier"], size)
        if key in rates:
            raise serializers.ValidationError({"rates": f"{'/'.join(key)} is given twice."})
        rates[key] = item["amount"]
    return rates


class CopySerializer(serializers.Serializer):
    consortium = VisibleRelatedField(model=Consortium, area="billing")
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class FeeScheduleViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, AccessViewSet):
    access_area = "billing"
    serializer_class = FeeScheduleSerializer
    selector = staticmethod(selectors.fee_schedule_list)
    filterset_class = FeeScheduleFilter
    ordering_fields = ["year", "consortium__name"]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # The page's rises in one query, not one per schedule.
        context = {**self.get_serializer_context(), "rises": selectors.licence_rises_for(page)}
        return self.get_paginated_response(self.get_serializer_class()(page, many=True, context=context).data)

    def _fresh(self, schedule: FeeSchedule) -> FeeSchedule:
        return self.get_queryset().get(pk=schedule.pk)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        schedule = services.fee_schedule_create(
            user=self.request.user, consortium=data["consortium"], year=data["year"],
            size_band=data.get("size_band", FeeSchedule.SizeBand.BAND_1),
            consortium_fee_currency=(data.get("consortium_fee_currency") or "").upper(),
            rates=_rates(data.get("rates")))
        serializer.instance = self._fresh(schedule)

    def perform_update(self, serializer: Any) -> None:
        data = serializer.validated_data
        schedule = serializer.instance
        if "consortium" in data and data["consortium"].pk != schedule.consortium_id or \
                "year" in data and data["year"] != schedule.year:
            raise serializers.ValidationError("A schedule's consortium and year cannot change; copy it instead.")
        rates = _rates(data.get("rates"))
        if rates is not None:  # the given set replaces the schedule's: the rates left out are removed
            rates = {key: None for key in selectors.rates_by_key(schedule)} | rates
        currency = data.get("consortium_fee_currency")
        schedule = services.fee_schedule_update(user=self.request.user, schedule=schedule,
                                                size_band=data.get("size_band"),
                                                consortium_fee_currency=currency.upper() if currency else None,
                                                rates=rates)
        serializer.instance = self._fresh(schedule)

    def perform_destroy(self, instance: FeeSchedule) -> None:
        services.fee_schedule_delete(user=self.request.user, schedule=instance)

    @extend_schema(request=CopySerializer, responses={201: FeeScheduleSerializer})
    @action(detail=False, methods=["post"])
    def copy(self, request: Request) -> Response:
        incoming = CopySerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        schedule = services.fee_schedule_copy(user=request.user, **incoming.validated_data)
        return Response(self.get_serializer(self._fresh(schedule)).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    """Add this part's viewsets to the billing router."""
    router.register("fee-schedules", FeeScheduleViewSet, basename="fee-schedule")
