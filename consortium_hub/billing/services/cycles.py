"""Writes of billing cycles: open a cycle, commit it (issue every invoice of its dry run).

`cycle_commit` is idempotent and safe to run twice at once:
- it locks the cycle row (select_for_update) before reading what is already invoiced, so two commits
  of one cycle run one after the other and the second finds nothing left to bill;
- the database keeps one member invoice per organisation and cycle, one ORCID invoice per cycle and
  gapless numbers per issuer and year (billing.models), so no duplicate can be written even so;
- everything happens in one transaction: numbers are taken inside it (billing.numbering), so a
  failed commit leaves no invoice and no gap.
Running it again later issues invoices only for members added since (and, for ORCID, a
supplementary invoice: see `_orcid_cycle_for`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
import functools
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consortium_hub.audit.receivers import record_created_in_bulk
from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import (BillingCycle, BillingSettings, Invoice, InvoiceLine, InvoiceSequence,
                                           Issuer)
from consortium_hub.billing.numbering import format_number, issuer_key, take_number
from consortium_hub.billing.selectors.cycles import DryRun, PlannedInvoice, build_dry_run, cycle_dry_run
from consortium_hub.billing.selectors.fees import FIRST_YEAR, LAST_YEAR
from consortium_hub.core.access import require
from consortium_hub.core.roles import ADD, VIEW
from consortium_hub.directory.models import Consortium, Membership, Organisation

AFTER_ISSUE_MODULE = "consortium_hub.billing.services.invoices"
BATCH = 500


@dataclass(frozen=True)
class CommitResult:
    cycle: BillingCycle
    member_invoices: list[Invoice]
    orcid_invoices: list[Invoice]  # ORCID's invoice to the lead (none when it had nothing new to bill)
    dry_run: DryRun                # what the commit found to do, with the cycle locked

    @property
    def invoices(self) -> list[Invoice]:
        return self.member_invoices + self.orcid_invoices

    @property
    def created(self) -> int:
        return len(self.invoices)


@transaction.atomic
def cycle_open(*, user: Any, consortium: Consortium, year: int) -> BillingCycle:
    """The consortium's cycle for `year` (created, open, if it does not exist yet)."""
    require(user, ADD, "billing", consortium_id=consortium.pk)
    _check_year(year)
    cycle, _created = BillingCycle.objects.get_or_create(consortium=consortium, year=year)
    return cycle


@transaction.atomic
def cycle_commit(*, user: Any, consortium: Consortium, year: int) -> CommitResult:
    """Issue every invoice of the cycle's dry run, in one transaction, with gapless numbers."""
    require(user, ADD, "billing", consortium_id=consortium.pk)
    _check_year(year)
    cycle_open(user=user, consortium=consortium, year=year)
    # The lock: a second commit of this cycle waits here until the first has committed, then reads
    # (READ COMMITTED: every statement sees the latest committed rows) what the first invoiced.
    cycle = BillingCycle.objects.select_for_update().get(consortium=consortium, year=year)
    lead_settings = settings_for(issuer=Issuer.LEAD, consortium=consortium)
    orcid_settings = settings_for(issuer=Issuer.ORCID, consortium=consortium)
    run = build_dry_run(consortium=consortium, year=year, cycle=cycle, lead_settings=lead_settings,
                        orcid_settings=orcid_settings,
                        memberships=Membership.objects.visible_to(user, VIEW, area="billing"))
    if run.schedule is None:
        raise ValidationError(_("There is no fee schedule for %(y)s: create one before committing the cycle.")
                              % {"y": year})
    lead_today = timezone.now().astimezone(zoneinfo.ZoneInfo(consortium.timezone)).date()
    # Lead numbers first, ORCID's last: ORCID's sequence row is shared by every consortium, so it is
    # locked for the shortest time, and always after the lead's (one lock order, no deadlock).
    members = _issue(run.member_invoices, consortium=consortium, year=year, cycle=cycle, settings=lead_settings,
                     today=lead_today, recipient_tax_id="")
    orcid: list[Invoice] = []
    if run.orcid_invoice is not None:
        orcid = _issue([run.orcid_invoice], consortium=consortium, year=year,
                       cycle=_orcid_cycle_for(run.orcid_invoice, cycle), settings=orcid_settings,
                       today=timezone.localdate(), recipient_tax_id=lead_settings.issuer_tax_id,
                       recipient_details=_party_details(lead_settings))
    result = CommitResult(cycle=cycle, member_invoices=members, orcid_invoices=orcid, dry_run=run)
    if result.created:
        cycle.status = BillingCycle.Status.COMMITTED
        cycle.last_committed_at = timezone.now()
        cycle.last_committed_by = user if getattr(user, "is_authenticated", False) else None
        cycle.full_clean(validate_constraints=False)
        cycle.save()  # saved after the invoices: the cycle's history tells each commit's invoices by time
        transaction.on_commit(partial(_after_issue, [invoice.pk for invoice in result.invoices]))
    return result


def _check_year(year: int) -> None:
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": _("Choose a year between %(a)s and %(b)s.") % {"a": FIRST_YEAR,
                                                                                      "b": LAST_YEAR}})


def _orcid_cycle_for(planned: PlannedInvoice, cycle: BillingCycle) -> BillingCycle | None:
    """ORCID's first invoice of a cycle points at the cycle. While the database allows one ORCID invoice
    per cycle (constraint one_orcid_invoice_per_cycle), a supplementary one for members added later is
    kept apart from the cycle (cycle None; same consortium and year, so selectors.cycles.cycle_invoices
    and the dry run still find it, and the cycle lock still serialises it). Once that constraint gives
    way to one ORCID licence line per membership and cycle, it points at the cycle too."""
    one_per_cycle = any(c.name == "one_orcid_invoice_per_cycle" for c in Invoice._meta.constraints)
    return None if planned.supplementary and one_per_cycle else cycle


def _issue(planned: Sequence[PlannedInvoice], *, consortium: Consortium, year: int, cycle: BillingCycle | None,
           settings: BillingSettings, today: dt.date, recipient_tax_id: str,
           recipient_details: str | None = None) -> list[Invoice]:
    """Number, write and audit the planned invoices and their lines (bulk inserts, audited by audit.receivers.record_created_in_bulk)."""
    invoices = []
    numbers = iter(take_numbers(issuer=planned[0].issuer, consortium_id=consortium.pk, year=year, count=len(planned))
                   if planned else ())
    for p in planned:
        sequence = next(numbers)
        invoice = Invoice(
            kind=Invoice.Kind.INVOICE, issuer=p.issuer, consortium=consortium,
            recipient_organisation=p.recipient_organisation, cycle=cycle, year=year, sequence=sequence,
            number=format_number(prefix=settings.invoice_prefix, year=year, sequence=sequence),
            currency=p.currency, status=Invoice.Status.ISSUED, issue_date=today,
            due_date=today + dt.timedelta(days=settings.due_days),
            issuer_details=_party_details(settings),
            recipient_details=(recipient_details if recipient_details is not None
                               else _organisation_details(p.recipient_organisation)),
            recipient_tax_id=recipient_tax_id, tax_rate_percent=p.tax_rate_percent,
            subtotal=p.totals.subtotal, tax_total=p.totals.tax_total, total=p.totals.total)
        # Foreign keys come from rows read in this transaction and constraints are the database's: check fields.
        invoice.clean_fields(exclude=["consortium", "recipient_organisation", "cycle", "credited_invoice"])
        invoices.append(invoice)
    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    lines = [InvoiceLine(invoice=invoice, position=position, description=line.description, fee_kind=line.fee_kind,
                         membership_id=line.membership_id, months=line.months, quantity=line.quantity,
                         unit_price=line.unit_price, amount=line.amount)
             for invoice, p in zip(invoices, planned) for position, line in enumerate(p.lines, start=1)]
    InvoiceLine.objects.bulk_create(lines, batch_size=BATCH)
    record_created_in_bulk([*invoices, *lines])
    return invoices


def take_numbers(*, issuer: str, consortium_id: int, year: int, count: int) -> range:
    """`count` consecutive numbers of the issuer's year, taken at once (one locked row update instead of
    `count`): numbering.take_number takes the first (creating and locking the sequence row), the rest
    are reserved on the row it locked, inside the same transaction, so they stay gapless.

    PROPOSED to move to billing/numbering.py as `take_numbers`: taking 10,000 numbers one by one costs
    ~3 s of the 10,000-member commit (docs/benchmarks.md)."""
    first = take_number(issuer=issuer, consortium_id=consortium_id, year=year)
    if count > 1:
        (InvoiceSequence.objects.filter(issuer_key=issuer_key(issuer=issuer, consortium_id=consortium_id), year=year)
         .update(last_number=F("last_number") + (count - 1)))
    return range(first, first + count)


def _party_details(settings: BillingSettings) -> str:
    """Name and address as printed on the invoice, frozen at issue."""
    lines = [settings.issuer_name, settings.issuer_address.strip()]
    if settings.issuer_tax_id:
        lines.append(_("Tax ID: %(id)s") % {"id": settings.issuer_tax_id})
    return "\n".join(line for line in lines if line)


def _organisation_details(org: Organisation | None) -> str:
    if org is None:
        return ""
    place = ", ".join(part for part in (org.city, org.region, _country_name(org.country.code)) if part)
    return "\n".join(part for part in (org.legal_name, place) if part)


@functools.lru_cache(maxsize=512)
def _country_name_in(code: str, language: str) -> str:
    from django_countries import countries

    return str(countries.name(code)) if code else ""


def _country_name(code: str) -> str:
    return _country_name_in(code or "", get_language() or "")


def _after_issue(invoice_ids: list[int]) -> None:
    """After the commit: hand the new invoices to the invoices feature (it emails member invoices), if it
    exists yet. Only a missing module is tolerated; an error inside it is not hidden."""
    try:
        module = importlib.import_module(AFTER_ISSUE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != AFTER_ISSUE_MODULE:
            raise
        return
    hook = getattr(module, "after_issue", None)
    if callable(hook):
        hook(invoice_ids)


__all__ = ["CommitResult", "cycle_commit", "cycle_dry_run", "cycle_open"]
