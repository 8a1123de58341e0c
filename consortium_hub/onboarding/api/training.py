"""API for courses and training records."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers

from consortium_hub.core.api.fields import VisibleRelatedField
from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Consortium
from consortium_hub.onboarding.models import Course, TrainingRecord
from consortium_hub.onboarding.selectors import training as selectors
from consortium_hub.onboarding.services import training as services


class CourseSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="training", required=False, allow_null=True)

    class Meta:
        model = Course
        fields = ["id", "consortium", "title", "kind", "description", "url", "required_for_support_staff"]


class TrainingRecordSerializer(serializers.ModelSerializer):
    consortium = VisibleRelatedField(model=Consortium, area="training")
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.all())

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["course"].queryset = Course.objects.visible_to(request.user)
        return fields

    class Meta:
        model = TrainingRecord
        fields = ["id", "consortium", "course", "person", "completed_on", "note", "recorded_by"]
        read_only_fields = ["recorded_by"]
        validators: list = []


class CourseViewSet(mixins.CreateModelMixin, AccessViewSet):
    access_area = "training"
    serializer_class = CourseSerializer
    selector = staticmethod(selectors.course_list)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.course_create(user=self.request.user, **serializer.validated_data)


class TrainingRecordViewSet(mixins.CreateModelMixin, AccessViewSet):
    access_area = "training"
    serializer_class = TrainingRecordSerializer
    selector = staticmethod(selectors.training_record_list)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.training_record_add(user=self.request.user, **serializer.validated_data)


def register(router) -> None:
    router.register("courses", CourseViewSet, basename="course")
    router.register("training-records", TrainingRecordViewSet, basename="training-record")
