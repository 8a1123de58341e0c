"""Who issues an invoice and how they bill: the lead (per consortium) or ORCID."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from consortium_hub.billing.models import BillingSettings, Issuer
from consortium_hub.directory.models import Consortium

DEFAULT_RENEWAL_REMINDER_DAYS = [60, 30, -7]
DEFAULT_DUNNING_DAYS = [7, 30, 60]
LEAD_DUE_DAYS = 30
ORCID_DUE_DAYS = 60


def settings_for(*, issuer: str, consortium: Consortium) -> BillingSettings:
    """The issuer's billing settings, created with the defaults on first use."""
    if issuer == Issuer.ORCID:
        lookup = {"consortium__isnull": True}
        defaults = {"issuer_name": "ORCID, Inc.", "invoice_prefix": "ORCID", "due_days": ORCID_DUE_DAYS}
    else:
        lookup = {"consortium": consortium}
        lead = consortium.lead_organisation
        defaults = {"issuer_name": lead.legal_name if lead else consortium.name, "invoice_prefix": "INV",
                    "due_days": LEAD_DUE_DAYS}
    found = BillingSettings.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return BillingSettings.objects.create(
                consortium=None if issuer == Issuer.ORCID else consortium,
                renewal_reminder_days=DEFAULT_RENEWAL_REMINDER_DAYS, dunning_days=DEFAULT_DUNNING_DAYS, **defaults)
    except IntegrityError:
        return BillingSettings.objects.get(**lookup)  # created concurrently
