"""The mission's areas, as the navigation names them. Areas not built yet say so."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

AREAS = [
    ("directory", _("Directory"), "directory:organisation_list"),
    ("billing", _("Agreements & Billing"), "agreements:agreement_list"),
    ("onboarding", _("Onboarding"), "onboarding:home"),
    ("support", _("Support"), None),
    ("engagement", _("Engagement"), None),
    ("resources", _("Resources"), None),
    ("integrations", _("Integrations"), None),
    ("reports", _("Reports"), None),
]
COMING_AREAS = {slug: label for slug, label, url in AREAS if url is None}
