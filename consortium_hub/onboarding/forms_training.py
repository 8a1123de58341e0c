from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium_hub.accounts.models import User
from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD
from consortium_hub.directory.models import Consortium
from consortium_hub.onboarding.models import Course


class CourseForm(forms.ModelForm):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none(), required=False,
                                        help_text=_("Leave empty for an ORCID course every consortium sees."))

    class Meta:
        model = Course
        fields = ["consortium", "title", "kind", "description", "url", "required_for_support_staff"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = Consortium.objects.visible_to(user, ADD, area="training")
        # Only ORCID-wide training staff may leave it empty; for leads it is required.
        self.fields["consortium"].required = not access_scope(user).can_in(ADD, "training")


class TrainingRecordForm(forms.Form):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    completed_on = forms.DateField(label=_("Completed on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consortia = Consortium.objects.visible_to(user, ADD, area="training")
        self.fields["consortium"].queryset = consortia
        self.fields["course"].queryset = Course.objects.visible_to(user).select_related("consortium")
        self.fields["person"].queryset = User.objects.filter(role_assignments__consortium__in=consortia).distinct()
