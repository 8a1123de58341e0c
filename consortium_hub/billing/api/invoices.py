"""Billing API: invoices, credit notes and payments, over the same selectors and services as the pages.

  /api/v1/billing/invoices/               list (?status= ?kind= ?issuer= ?consortium= ?currency= ?overdue=true ?q=),
                                          POST: a draft (lines: [{description, quantity, unit_price}])
  /api/v1/billing/invoices/<id>/          retrieve (with lines)
  /api/v1/billing/invoices/<id>/issue/    POST {issue_date?}: number and issue a draft (and email it)
  /api/v1/billing/invoices/<id>/credit/   POST {reason, lines?: [{description, amount}]}: a credit note
                                          (no lines: the whole invoice), 201 with the credit note
  /api/v1/billing/invoices/<id>/pay/      POST {amount, received_on, reference?}: 201 with the payment
  /api/v1/billing/payments/               list (?invoice= ?consortium= ?received_after= ?received_before=)
  /api/v1/billing/payments/<id>/          retrieve

Amounts are decimal strings in the document's currency.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consortium_hub.billing.forms_invoices import InvoiceFilter, PaymentFilter
from consortium_hub.billing.models import AMOUNT, Invoice, InvoiceLine, Issuer, Payment
from consortium_hub.billing.selectors import invoices as selectors
from consortium_hub.billing.services import invoices as services
from consortium_hub.billing.services.payments import payment_record
from consortium_hub.core.access import access_scope
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.core.roles import CHANGE, VIEW
from consortium_hub.directory.models import Consortium, Organisation


class BillingPermission(permissions.BasePermission):
    """Reading needs a billing grant (the lead's or ORCID's invoices); writing the change grant of either.
    Each object is then checked against its own issuer's area (models.by_issuer), and the services check
    again with their messages."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = access_scope(request.user)
        needed = VIEW if request.method in permissions.SAFE_METHODS else CHANGE
        return scope.allows_anything("billing", needed) or scope.allows_anything("orcid_billing", needed)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or access_scope(request.user).can(CHANGE, obj)


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["position", "description", "fee_kind", "membership", "months", "quantity", "unit_price", "amount"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credited = serializers.DecimalField(read_only=True, **AMOUNT)
    balance_due = serializers.DecimalField(read_only=True, **AMOUNT)
    credited_invoice_number = serializers.CharField(source="credited_invoice.number", read_only=True, default=None)
    pdf = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "kind", "number", "issuer", "consortium", "recipient_organisation", "cycle",
                  "credited_invoice", "credited_invoice_number", "year", "currency", "status", "issue_date",
                  "due_date", "issuer_details", "recipient_details", "recipient_tax_id", "tax_rate_percent",
                  "subtotal", "tax_total", "total", "credited", "amount_paid", "balance_due", "lines", "pdf", "url",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_pdf(self, invoice: Invoice) -> str:
        return reverse("billing:invoice_pdf", args=[invoice.pk])

    def get_url(self, invoice: Invoice) -> str:
        return reverse("billing:invoice_detail", args=[invoice.pk])


class LineInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=255)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3, default=1)
    unit_price = serializers.DecimalField(**AMOUNT)


class InvoiceCreateSerializer(serializers.Serializer):
    issuer = serializers.ChoiceField(choices=Issuer.choices)
    consortium = serializers.PrimaryKeyRelatedField(queryset=Consortium.objects.none())
    recipient_organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none(), required=False,
                                                                allow_null=True, default=None)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    tax_rate_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True,
                                                default=None)
    recipient_tax_id = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    year = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=2000, max_value=2100)
    lines = LineInputSerializer(many=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["consortium"].queryset = Consortium.objects.visible_to(request.user)
            self.fields["recipient_organisation"].queryset = Organisation.objects.visible_to(request.user)


class IssueSerializer(serializers.Serializer):
    issue_date = serializers.DateField(required=False, allow_null=True, default=None)


class CreditLineSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(**AMOUNT)


class CreditSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    lines = CreditLineSerializer(many=True, required=False, allow_null=True, default=None)


class PaySerializer(serializers.Serializer):
    amount = serializers.DecimalField(**AMOUNT)
    received_on = serializers.DateField()
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    currency = serializers.CharField(source="invoice.currency", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.email", read_only=True, default=None)

    class Meta:
        model = Payment
        fields = ["id", "invoice", "invoice_number", "currency", "amount", "received_on", "reference", "recorded_by",
                  "created_at"]
        read_only_fields = fields


class InvoiceViewSet(mixins.CreateModelMixin, AccessViewSet):
    access_area = "billing"
    serializer_class = InvoiceSerializer
    permission_classes = [BillingPermission]
    filterset_class = InvoiceFilter
    ordering_fields = ["issue_date", "due_date", "number", "total", "created_at"]

    def get_queryset(self) -> Any:
        return (selectors.invoice_list(user=self.request.user)
                .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")))
                .order_by("-year", "-sequence", "-pk"))

    def _fresh(self, invoice: Invoice) -> dict[str, Any]:
        return InvoiceSerializer(self.get_queryset().get(pk=invoice.pk), context=self.get_serializer_context()).data

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = InvoiceCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        invoice = services.invoice_create_manual(user=request.user, currency=data.pop("currency") or None,
                                                 lines=[dict(line) for line in data.pop("lines")], **data)
        return Response(self._fresh(invoice), status=201)

    @extend_schema(request=IssueSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: Any = None) -> Response:
        invoice = self.get_object()
        incoming = IssueSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.invoice_issue(user=request.user, invoice=invoice, issue_date=incoming.validated_data["issue_date"],
                               notify=True)
        return Response(self._fresh(invoice))

    @extend_schema(request=CreditSerializer, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def credit(self, request: Request, pk: Any = None) -> Response:
        invoice = self.get_object()
        incoming = CreditSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        lines = incoming.validated_data["lines"]
        note = services.credit_note_create(user=request.user, invoice=invoice,
                                           reason=incoming.validated_data["reason"], notify=True,
                                           lines=None if lines is None else [dict(line) for line in lines])
        return Response(self._fresh(note), status=201)

    @extend_schema(request=PaySerializer, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: Any = None) -> Response:
        invoice = self.get_object()
        incoming = PaySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        payment = payment_record(user=request.user, invoice=invoice, **incoming.validated_data)
        return Response(PaymentSerializer(payment).data, status=201)


class PaymentViewSet(AccessViewSet):
    access_area = "billing"
    serializer_class = PaymentSerializer
    permission_classes = [BillingPermission]
    filterset_class = PaymentFilter
    selector = staticmethod(selectors.payment_list)
    ordering_fields = ["received_on", "amount", "created_at"]


def register(router) -> None:
    """Add this part's viewsets to the billing router."""
    router.register("invoices", InvoiceViewSet, basename="invoice")
    router.register("payments", PaymentViewSet, basename="payment")
