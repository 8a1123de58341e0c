"""Forms of the ORCID registry link. Plain forms: the services validate (one set of rules for the CSV
and the forms) and check access; choices come from `visible_to(...)`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consortium_hub.directory.models import Consortium, Organisation
from consortium_hub.registry.models import Affiliation, PermissionLink

# The row's own fields, as ORCID's Affiliation Manager CSV has them (its `id` is the row's pk).
AFFILIATION_FIELDS = ["email", "section", "department_name", "role_title", "start_date", "end_date", "org_name",
                      "org_country", "org_city", "org_region", "disambiguated_organization_identifier",
                      "disambiguation_source", "external_id", "external_id_type", "external_id_url", "url"]

DATE_HELP = _("yyyy, yyyy-mm or yyyy-mm-dd, as ORCID takes them.")


class AffiliationForm(forms.Form):
    """One affiliation row; `organisations` (for a new row) offers the members the user may add rows for."""

    def __init__(self, *args: Any, organisations: QuerySet[Organisation] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if organisations is not None:
            only = list(organisations[:2])
            self.fields["organisation"] = forms.ModelChoiceField(
                queryset=organisations, label=_("Organisation"), initial=only[0] if len(only) == 1 else None)
        self.fields.update(forms.fields_for_model(Affiliation, fields=AFFILIATION_FIELDS))
        for name in ("start_date", "end_date"):
            self.fields[name].help_text = DATE_HELP
        self.fields["org_country"].help_text = _("Two-letter ISO 3166 code, e.g. GB.")
        self.fields["disambiguated_organization_identifier"].help_text = _(
            "The organisation's ROR ID (https://ror.org/…), Ringgold ID, GRID ID, Crossref Funder ID or LEI.")

    def row_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in AFFILIATION_FIELDS}


def affiliation_initial(affiliation: Affiliation) -> dict[str, Any]:
    return {name: getattr(affiliation, name) for name in AFFILIATION_FIELDS}


class UploadForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Organisation"))
    file = forms.FileField(label=_("CSV or XLSX file"), allow_empty_file=True,
                           help_text=_("The columns of ORCID's Affiliation Manager; the first row names them."))
    language = forms.ChoiceField(choices=PermissionLink.Language.choices, initial=PermissionLink.Language.EN,
                                 label=_("Language of permission emails"),
                                 help_text=_("Researchers who have not given permission yet get an email in this "
                                             "language asking for it."))

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        only = list(organisations[:2])
        # A member contact has one organisation: it is chosen for them.
        self.fields["organisation"].initial = only[0] if len(only) == 1 else None


class ApplyForm(forms.Form):
    language = forms.ChoiceField(choices=PermissionLink.Language.choices, label=_("Language of permission emails"))


class RegistryClientForm(forms.Form):
    client_id = forms.CharField(label=_("Client id"), max_length=64,
                                help_text=_("The consortium's ORCID member API client id (APP-…)."))
    client_secret = forms.CharField(label=_("Client secret"), required=False, strip=True,
                                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
    rate_per_second = forms.IntegerField(label=_("Requests per second"), required=False, min_value=1, max_value=40,
                                         help_text=_("Leave empty for the hub's setting. ORCID allows about 24 per "
                                                     "second per member client."))

    def __init__(self, *args: Any, secret_is_set: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        secret = self.fields["client_secret"]
        if secret_is_set:
            secret.help_text = _("A secret is set. Leave this empty to keep it; it is never shown again.")
        else:
            secret.required = True
            secret.help_text = _("Stored encrypted; it is never shown again.")


class AdoptionForm(forms.Form):
    consortium = forms.ModelChoiceField(queryset=Consortium.objects.none(), required=False, label=_("Consortium"),
                                        empty_label=_("Every consortium I can see"))

    def __init__(self, *args: Any, consortia: QuerySet[Consortium], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consortium"].queryset = consortia
