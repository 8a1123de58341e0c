import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from consortium_hub.audit.models import ChangeRecord


class ChangeRecordFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=ChangeRecord.Action.choices, label=_("Action"))
    content_type = django_filters.ModelChoiceFilter(
        queryset=ContentType.objects.filter(app_label__in=["directory", "accounts"]).order_by("model"),
        label=_("Kind"))
    consortium_id = django_filters.NumberFilter(label=_("Consortium id"))
    request_id = django_filters.CharFilter(label=_("Request id"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("Since"))

    class Meta:
        model = ChangeRecord
        fields = ["action", "content_type", "consortium_id", "request_id", "since"]
