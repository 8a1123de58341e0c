"""How an issuer bills: its name and address, number prefix, due days, tax rate, bank details, logo,
footer and overdue reminder days. The lead's row is changed by those who may change its consortium's
billing (lead admins and finance, ORCID admins); ORCID's row by ORCID admins and finance."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from consortium_hub.billing.models import BillingSettings
from consortium_hub.billing.pdf import MAX_LOGO_BYTES
from consortium_hub.core.access import access_scope, require
from consortium_hub.core.roles import CHANGE

PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}$")
MAX_DUNNING_LEVELS = 6
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def may_change_settings(user: Any, billing_settings: BillingSettings) -> bool:
    if billing_settings.consortium_id is None:
        return access_scope(user).can_in(CHANGE, "orcid_billing", consortium_id=None)
    return access_scope(user).can_in(CHANGE, "billing", consortium_id=billing_settings.consortium_id)


def _check(user: Any, billing_settings: BillingSettings) -> None:
    if billing_settings.consortium_id is None:
        require(user, CHANGE, "orcid_billing")
    else:
        require(user, CHANGE, "billing", consortium_id=billing_settings.consortium_id)


def _clean_logo(logo: UploadedFile) -> None:
    if logo.size and logo.size > MAX_LOGO_BYTES:
        raise ValidationError({"logo": _("The logo is larger than 1 MB.")})
    head = logo.read(8)
    logo.seek(0)
    if not any(head.startswith(signature) for signature in LOGO_SIGNATURES):
        raise ValidationError({"logo": _("The logo must be a PNG or JPEG image.")})


def _clean_dunning_days(days: Sequence[int]) -> list[int]:
    cleaned = []
    for value in days:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValidationError({"dunning_days": _("Reminder days are whole days after the due date (1 or more).")})
        cleaned.append(value)
    if cleaned != sorted(set(cleaned)):
        raise ValidationError({"dunning_days": _("List the reminder days in increasing order, each once.")})
    if len(cleaned) > MAX_DUNNING_LEVELS:
        raise ValidationError({"dunning_days": _("At most %(n)d reminder levels.") % {"n": MAX_DUNNING_LEVELS}})
    return cleaned


@transaction.atomic
def billing_settings_update(*, user: Any, billing_settings: BillingSettings, issuer_name: str,
                            issuer_address: str = "", issuer_tax_id: str = "", invoice_prefix: str,
                            due_days: int, tax_rate_percent: Decimal, bank_details: str = "", footer: str = "",
                            dunning_days: Sequence[int], logo: UploadedFile | None = None,
                            remove_logo: bool = False) -> BillingSettings:
    """Change what future documents use. Issued documents keep their number, dates and snapshots; their
    PDFs show the current logo, bank details and footer."""
    _check(user, billing_settings)
    row = BillingSettings.objects.select_for_update().get(pk=billing_settings.pk)
    prefix = invoice_prefix.strip()
    if not PREFIX_RE.match(prefix):
        raise ValidationError({"invoice_prefix": _("Use up to 20 letters, digits and . _ / - (starting with a "
                                                   "letter or digit).")})
    if not 0 <= due_days <= 365:
        raise ValidationError({"due_days": _("Payment is due 0 to 365 days after the issue date.")})
    if not Decimal(0) <= tax_rate_percent <= Decimal(100):
        raise ValidationError({"tax_rate_percent": _("The tax rate is a percentage from 0 to 100.")})
    row.issuer_name, row.issuer_address, row.issuer_tax_id = issuer_name.strip(), issuer_address.strip(), \
        issuer_tax_id.strip()
    row.invoice_prefix, row.due_days, row.tax_rate_percent = prefix, due_days, tax_rate_percent
    row.bank_details, row.footer = bank_details.strip(), footer.strip()
    row.dunning_days = _clean_dunning_days(list(dunning_days))
    if logo is not None:
        _clean_logo(logo)
        extension = LOGO_SIGNATURES[next(s for s in LOGO_SIGNATURES if logo.read(8).startswith(s))]
        logo.seek(0)
        row.logo.save(f"issuer-{row.pk}.{extension}", logo, save=False)
    elif remove_logo and row.logo:
        row.logo.delete(save=False)
        row.logo = ""
    row.full_clean()
    row.save()
    return row
