import django_filters
from django.utils.translation import gettext_lazy as _

from consortium_hub.jobs.models import JobRun


class JobRunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobRun.Status.choices, label=_("Status"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("Job"))

    class Meta:
        model = JobRun
        fields = ["status", "name"]
