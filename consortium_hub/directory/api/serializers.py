from __future__ import annotations

from typing import Any

from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation


class ConsortiumSerializer(serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = Consortium
        fields = ["id", "name", "country", "lead_organisation", "billing_currency", "timezone", "engagement_lead",
                  "formed_on", "status", "created_at", "updated_at"]
        read_only_fields = fields


class MembershipSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "tier", "size", "status", "start_date", "end_date"]


class OrganisationSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="directory")
    country = CountryField()
    memberships = MembershipSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "consortium", "legal_name", "public_name", "type", "country", "region", "city", "website",
                  "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id", "memberships", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # Model-level uniqueness is reported by the service with a clear message.
        validators: list = []


class ContactSerializer(serializers.ModelSerializer):
    organisation = VisibleRelatedField(model=Organisation, area="contacts")
    # Written as a list of role keys; read back from the prefetched ContactRole rows.
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ContactRole.Kind.choices), required=False,
                                  write_only=True)
    take_voting = serializers.BooleanField(write_only=True, required=False, default=False)

    class Meta:
        model = Contact
        fields = ["id", "organisation", "name", "email", "phone", "job_title", "orcid_id", "roles", "take_voting",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []

    def to_representation(self, instance: Contact) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["roles"] = sorted(r.role for r in instance.roles.all())
        return data


class MembershipSerializer(serializers.ModelSerializer):
    organisation = VisibleRelatedField(model=Organisation, area="directory")
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta:
        model = Membership
        fields = ["id", "organisation", "consortium", "tier", "size", "status", "start_date", "end_date", "reason",
                  "created_at", "updated_at"]
        read_only_fields = ["consortium", "created_at", "updated_at"]
        validators: list = []


class ChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    consortium_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField(source="content_type.model")
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    action = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    user = serializers.CharField(source="user.email", allow_null=True, default=None)
    request_id = serializers.CharField()
    acknowledged = serializers.SerializerMethodField()

    def get_acknowledged(self, record: Any) -> bool:
        return hasattr(record, "acknowledgement")


class AcknowledgeSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    consortium = serializers.IntegerField(required=False)


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["organisations", "contacts"])
    file = serializers.FileField(allow_empty_file=True)


class ImportBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    format = serializers.CharField()
    original_filename = serializers.CharField()
    size = serializers.IntegerField()
    row_count = serializers.IntegerField()
    create_count = serializers.IntegerField()
    update_count = serializers.IntegerField()
    problem_count = serializers.IntegerField()
    can_confirm = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    # kind, columns, counts, file_problems, rows (each with row, action, label, problems) and failure.
    preview = serializers.JSONField()
