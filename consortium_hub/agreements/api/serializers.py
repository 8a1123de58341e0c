from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from consortium_hub.agreements import terms
from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.agreements.services.agreements import document_problem
from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.directory.models import Consortium, Membership


class DecisionSummarySerializer(serializers.ModelSerializer):
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = RenewalDecision
        fields = ["id", "decision", "new_tier", "effective_on", "note", "decided_by", "next_agreement",
                  "created_at"]
        read_only_fields = fields


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement. On create: `kind`, then `membership` (member) or `consortium` (lead). Who an
    agreement is between cannot change afterwards. The signed PDF is uploaded as multipart `document`
    and downloaded from `document_url` (access-checked)."""

    consortium = VisibleRelatedField(model=Consortium, area="agreements", required=False)
    membership = VisibleRelatedField(model=Membership, area="agreements", required=False, allow_null=True)
    organisation_name = serializers.SerializerMethodField()
    document = serializers.FileField(write_only=True, required=False, allow_null=True,
                                     help_text="The signed agreement: a PDF of at most 10 MB (multipart upload).")
    has_document = serializers.SerializerMethodField()
    document_url = serializers.SerializerMethodField()
    notice_deadline = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["id", "kind", "consortium", "organisation", "organisation_name", "membership", "tier", "signed_on",
                  "start_date", "end_date", "term_months", "auto_renew", "notice_days", "notice_deadline", "status",
                  "document", "has_document", "document_url", "decision", "created_at", "updated_at"]
        read_only_fields = ["organisation", "created_at", "updated_at"]
        # The services check the dates and overlaps with clear messages.
        validators: list = []
        extra_kwargs = {"kind": {"required": False}, "start_date": {"required": False},
                        "end_date": {"required": False}}

    def get_organisation_name(self, agreement: Agreement) -> str | None:
        return agreement.organisation.display_name if agreement.organisation_id else None

    def get_has_document(self, agreement: Agreement) -> bool:
        return bool(agreement.document)

    def get_document_url(self, agreement: Agreement) -> str | None:
        if not agreement.document:
            return None
        url = reverse("api:agreement-document", args=[agreement.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_notice_deadline(self, agreement: Agreement) -> str:
        return terms.notice_deadline(end_date=agreement.end_date, notice_days=agreement.notice_days).isoformat()

    def get_decision(self, agreement: Agreement) -> dict[str, Any] | None:
        decisions = list(agreement.decisions.all())
        return DecisionSummarySerializer(decisions[0]).data if decisions else None

    def validate_document(self, file: Any) -> Any:
        problem = document_problem(file) if file else None
        if problem:
            raise serializers.ValidationError(problem)
        return file

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            missing = {name: "This field is required." for name in ("kind", "start_date", "end_date")
                       if name not in attrs}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = RenewalDecision
        fields = ["id", "agreement", "decision", "new_tier", "effective_on", "note", "decided_by", "next_agreement",
                  "created_at", "updated_at"]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=RenewalDecision.Decision.choices)
    new_tier = serializers.ChoiceField(choices=Membership.Tier.choices, required=False, allow_blank=True,
                                       help_text="Only with decision change_tier.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
