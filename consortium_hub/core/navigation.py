"""The mission's areas, as the navigation names them. Areas not built yet say so."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Area:
    slug: str
    label: str | Promise
    url_name: str | None  # None: coming
    # Shown to users holding a view grant in any of these access areas (see core.roles).
    grants: tuple[str, ...] = ()
    # URL prefixes that belong to the area, for marking it current.
    prefixes: tuple[str, ...] = ()


AREAS = [
    Area("directory", _("Directory"), "directory:organisation_list", ("directory",), ("/directory/",)),
    Area("billing", _("Agreements & Billing"), "agreements:agreement_list", ("agreements", "billing", "orcid_billing"),
         ("/agreements/", "/billing/")),
    Area("onboarding", _("Onboarding"), "onboarding:home", ("onboarding",), ("/onboarding/",)),
    Area("support", _("Support"), "support:ticket_list", ("support", "orcid_support"), ("/support/",)),
    Area("engagement", _("Engagement"), "communiques:list", ("communiques",), ("/communiques/",)),
    Area("orcid", _("ORCID"), "registry:home", ("affiliations", "adoption", "registry_calls", "registry_settings"),
         ("/registry/",)),
    Area("resources", _("Resources"), None),
    Area("integrations", _("Integrations"), None),
    Area("reports", _("Reports"), None),
]
COMING_AREAS = {area.slug: area.label for area in AREAS if area.url_name is None}
