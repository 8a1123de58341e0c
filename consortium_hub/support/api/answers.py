"""Saved answers API: lead staff read their consortium's and ORCID's, write their consortium's; ORCID
admins and ORCID support read and write ORCID's. Writes go through the services (which check who)."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, permissions, serializers

from consortium_hub.core.api.viewsets import AccessViewSet
from consortium_hub.directory.models import Consortium
from consortium_hub.support.models import Problem, SavedAnswer
from consortium_hub.support.selectors import answers as selectors
from consortium_hub.support.services import answers as services


class AnswerPermission(permissions.BasePermission):
    """Desk staff only (members never see saved answers); what they may write the services decide."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and selectors.can_use_answers(request.user))

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return True


class SavedAnswerSerializer(serializers.ModelSerializer):
    consortium = serializers.PrimaryKeyRelatedField(
        queryset=Consortium.objects.all(), allow_null=True, required=False,
        help_text="The consortium whose answer it is; null (or omitted): ORCID's, offered to every consortium.")
    problem = serializers.PrimaryKeyRelatedField(queryset=Problem.objects.all(), allow_null=True, required=False)

    class Meta:
        model = SavedAnswer
        fields = ["id", "consortium", "title", "body", "problem", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SavedAnswerViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessViewSet):
    """Saved answers and known-error articles, searchable with `q`."""

    access_area = "support"
    permission_classes = [AnswerPermission]
    serializer_class = SavedAnswerSerializer
    selector = staticmethod(selectors.answer_list)
    filterset_class = selectors.SavedAnswerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_object(self) -> SavedAnswer:
        # ORCID support holds no `support` grant, so the lookup is the answers selector's own.
        return selectors.answer_for_user_or_404(user=self.request.user, pk=self.kwargs["pk"])

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = services.answer_create(user=self.request.user, consortium=data.get("consortium"),
                                                     title=data["title"], body=data["body"],
                                                     problem=data.get("problem"))

    def perform_update(self, serializer: Any) -> None:
        data = serializer.validated_data
        if "consortium" in data and (data["consortium"].pk if data["consortium"] else None) != \
                serializer.instance.consortium_id:
            raise serializers.ValidationError({"consortium": "Whose answer it is cannot change."})
        serializer.instance = services.answer_update(
            user=self.request.user, answer=serializer.instance, title=data.get("title"), body=data.get("body"),
            problem=data.get("problem"), clear_problem="problem" in data and data["problem"] is None)


def register(router) -> None:
    """Add this part's viewsets to the support router."""
    router.register("saved-answers", SavedAnswerViewSet, basename="saved-answer")
