"""Forms of membership applications: the public page, lead staff's entry, the applicant's resubmission."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from consortium_hub.core.roles import ADD
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Consortium
from consortium_hub.onboarding.models import Application
from consortium_hub.onboarding.selectors.applications import OPEN_CONSORTIUM_STATUSES
from consortium_hub.onboarding.services import applications as services

HONEYPOT = "website_url"
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m")
        return value or None


class MonthField(forms.Field):
    """A month as `YYYY-MM` (the browser's month input), stored as its 1st day.

    A full date is accepted too (the API and old browsers send one), so a day other than the 1st
    can be refused with a message that says why.
    """

    widget = MonthInput
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-03.")}

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value
        match = _MONTH_RE.match(str(value).strip())
        if not match:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


def _identifier(label: str, validator: Any, help_text: str = "") -> forms.CharField:
    # Longer than the stored value: people paste full URLs, which are normalised to the bare ID.
    return forms.CharField(label=label, required=False, max_length=100, validators=[validator], help_text=help_text)


class ApplicationForm(forms.ModelForm):
    """The public application page (and the base of the other two)."""

    country = forms.ChoiceField(label=_("Country"), choices=[("", "---------"), *countries])
    ror_id = _identifier(_("ROR ID"), identifiers.validate_ror, _("e.g. 05dxps055 or https://ror.org/05dxps055"))
    ringgold_id = _identifier(_("Ringgold ID"), identifiers.validate_ringgold, _("Digits only."))
    grid_id = _identifier(_("GRID ID"), identifiers.validate_grid, _("e.g. grid.1234.5"))
    isni = _identifier(_("ISNI"), identifiers.validate_isni, _("e.g. 0000 0001 2103 2683"))
    crossref_funder_id = _identifier(_("Crossref Funder ID"), identifiers.validate_funder_id,
                                     _("e.g. 10.13039/501100000780"))
    wished_start = MonthField(label=_("Wished start month"),
                              help_text=_("Memberships start on the 1st of a month. Format: YYYY-MM."))
    attachment = forms.FileField(
        label=_("Supporting document (PDF)"), required=False,
        help_text=_("Optional. A PDF of at most 5 MB."),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}))
    # The honeypot: hidden from people by CSS, labelled for screen readers; bots fill it in.
    website_url = forms.CharField(label=_("Leave this field empty"), required=False,
                                  widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    section_fields = {
        "organisation": ("legal_name", "public_name", "type", "country", "region", "city", "website"),
        "identifiers": ("ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id"),
        "contact": ("contact_name", "contact_email", "contact_phone", "contact_job_title"),
        "voting": ("voting_contact_name", "voting_contact_email"),
        "membership": ("tier", "size", "wished_start", "integration_plans", "attachment"),
    }

    class Meta:
        model = Application
        fields = list(services.APPLICATION_FIELDS)
        widgets = {"integration_plans": forms.Textarea(attrs={"rows": 5, "cols": 60})}
        help_texts = {
            "legal_name": _("As in your legal documents."),
            "contact_email": _("We send the confirmation and any questions here."),
            "voting_contact_name": _("Optional. Leave both voting fields empty and you are the voting contact."),
            "integration_plans": _("Which systems will connect to ORCID, and when."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["city"].required = True
        self.fields["wished_start"].widget.attrs["min"] = services.earliest_start().strftime("%Y-%m")

    section_titles = {"consortium": _("Consortium"), "organisation": _("Organisation"),
                      "identifiers": _("Identifiers"), "contact": _("You (the main contact)"),
                      "voting": _("Voting contact"), "membership": _("Membership")}

    def sections(self) -> list[tuple[str, list[Any]]]:
        """(legend, bound fields) per fieldset, in page order."""
        return [(self.section_titles[key], [self[name] for name in names if name in self.fields])
                for key, names in self.section_fields.items()]

    def honeypot_filled(self) -> bool:
        return bool(self.data.get(HONEYPOT, "").strip()) if self.is_bound else False

    # Identifiers in canonical form.
    def clean_ror_id(self) -> str:
        return identifiers.normalise_ror(self.cleaned_data.get("ror_id", ""))

    def clean_grid_id(self) -> str:
        return identifiers.normalise_grid(self.cleaned_data.get("grid_id", ""))

    def clean_isni(self) -> str:
        return identifiers.normalise_isni(self.cleaned_data.get("isni", ""))

    def clean_crossref_funder_id(self) -> str:
        return identifiers.normalise_funder_id(self.cleaned_data.get("crossref_funder_id", ""))

    def clean_ringgold_id(self) -> str:
        return (self.cleaned_data.get("ringgold_id") or "").strip()

    def clean_contact_email(self) -> str:
        return self.cleaned_data["contact_email"].strip().lower()

    def clean_voting_contact_email(self) -> str:
        return (self.cleaned_data.get("voting_contact_email") or "").strip().lower()

    def clean_wished_start(self) -> dt.date:
        day = self.cleaned_data.get("wished_start")
        problem = services.wished_start_problem(day)
        if problem:
            raise ValidationError(problem)
        return day

    def clean_attachment(self) -> Any:
        file = self.cleaned_data.get("attachment")
        if file:
            problem = services.attachment_problem(file)
            if problem:
                raise ValidationError(problem)
        return file or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = (data.get("voting_contact_name") or "").strip()
        email = data.get("voting_contact_email") or ""
        if "voting_contact_email" in data and "voting_contact_name" in data and bool(name) != bool(email):
            self.add_error("voting_contact_email" if name else "voting_contact_name",
                           _("Give both the voting contact's name and email, or neither "
                             "(then you are the voting contact)."))
        return data

    def service_data(self) -> dict[str, Any]:
        """What the services take: the application's fields and the file."""
        data = {name: self.cleaned_data.get(name) for name in services.APPLICATION_FIELDS}
        data["attachment"] = self.cleaned_data.get("attachment") or None
        return data


class StaffApplicationForm(ApplicationForm):
    """Lead staff entering an application by hand: they choose the consortium; no honeypot."""

    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())

    section_fields = {"consortium": ("consortium",), **ApplicationForm.section_fields}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["website_url"]
        self.fields["consortium"].queryset = (Consortium.objects.visible_to(user, ADD, area="onboarding")
                                              .filter(status__in=OPEN_CONSORTIUM_STATUSES))
        self.fields["contact_name"].label = _("Applicant's name")
        self.fields["contact_email"].label = _("Applicant's email")
        self.fields["contact_phone"].label = _("Applicant's phone")
        self.fields["contact_job_title"].label = _("Applicant's job title")
        self.fields["contact_email"].help_text = _("The applicant gets a confirmation with a private link here.")

    section_titles = {**ApplicationForm.section_titles, "contact": _("The applicant (main contact)")}

    def honeypot_filled(self) -> bool:
        return False


class ResubmitForm(ApplicationForm):
    """The applicant's corrections, through the private link. The stored document stays unless replaced."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = _("Optional. Upload a new PDF (at most 5 MB) to replace the one "
                                                "you sent; leave empty to keep it.")
