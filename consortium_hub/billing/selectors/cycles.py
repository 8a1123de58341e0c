"""Reads of billing cycles: the dry run (every invoice a commit would create), cycle lists, commit history.

The dry run is the single description of a cycle's invoices: `services.cycles.cycle_commit` builds
the same `DryRun` (with the cycle row locked) and writes exactly what it lists.

Who is billed for year Y (1 January – 31 December):
- each organisation of the consortium with a membership that is active or onboarding and overlaps Y
  (starts on or before 31 December, ends on or after 1 January or never), and is not yet invoiced
  in this cycle; one invoice per organisation (the database allows one member invoice per cycle);
- the months billed run from the membership's start month (January if it started earlier) to
  December, or to its end month if it ends in Y; fewer than 12 months prorate the annual fee
  (core.money.prorate_by_months);
- lines: the licence fee (tier, USD, for the schedule's size band) and the consortium fee (tier and
  member size, the schedule's consortium-fee currency). An invoice has one currency, so the
  licence fee is on the member's invoice only when the consortium fees are in USD too; otherwise
  the dry run says so in `warnings` (there is no exchange rate to convert it with);
- ORCID's side: one licence-fee line per billed membership on ORCID's invoice to the lead (USD),
  for every membership not yet on an ORCID licence line of that consortium and year;
- zero-amount lines are left off; an invoice without lines is not created.
Left out, with the reason: no rate for the tier/size, no schedule, lapsed, terminated, ended before
the year (memberships that ended in the year before; older ones are not listed), applicant, starts
after the year, already invoiced, nothing to bill.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.billing.calculations import Totals, totals
from consortium_hub.billing.models import (LICENCE_CURRENCY, BillingCycle, BillingSettings, FeeKind, FeeSchedule,
                                           Invoice, InvoiceLine, Issuer)
from consortium_hub.billing.selectors.fees import FIRST_YEAR, LAST_YEAR, RateKey, rates_by_key
from consortium_hub.core.access import access_scope, require
from consortium_hub.core.money import prorate_by_months, round_money
from consortium_hub.core.roles import VIEW
from consortium_hub.directory.models import Consortium, Membership, Organisation

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BILLABLE = frozenset({Membership.Status.ACTIVE, Membership.Status.ONBOARDING})


class Reason:
    """Why a membership is left out of a cycle (codes for the API, labels for the page)."""

    NO_SCHEDULE = "no_schedule"
    NO_RATE = "no_rate"
    LAPSED = "lapsed"
    TERMINATED = "terminated"
    ENDED = "ended_before_year"
    APPLICANT = "applicant"
    STARTS_AFTER = "starts_after_year"
    ALREADY_INVOICED = "already_invoiced"
    NOTHING_TO_BILL = "nothing_to_bill"

    LABELS = {
        NO_SCHEDULE: gettext_lazy("No fee schedule for the year"),
        NO_RATE: gettext_lazy("No rate for its tier/size"),
        LAPSED: gettext_lazy("Lapsed"),
        TERMINATED: gettext_lazy("Terminated"),
        ENDED: gettext_lazy("Ended before the year"),
        APPLICANT: gettext_lazy("Not a member yet (applicant)"),
        STARTS_AFTER: gettext_lazy("Starts after the year"),
        ALREADY_INVOICED: gettext_lazy("Already invoiced in this cycle"),
        NOTHING_TO_BILL: gettext_lazy("Nothing to bill (its fees are zero)"),
    }


# --- The pure rules (no database) ------------------------------------------------------------------

def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def overlaps(membership: Membership, year: int) -> bool:
    first, last = year_bounds(year)
    return membership.start_date <= last and (membership.end_date is None or membership.end_date >= first)


def billable_months(membership: Membership, year: int) -> tuple[int, int]:
    """The first and last month (1–12) of `year` the membership covers; it must overlap the year."""
    first = membership.start_date.month if membership.start_date.year == year else 1
    last = membership.end_date.month if membership.end_date and membership.end_date.year == year else 12
    return first, last


def why_not_billed(membership: Membership, year: int) -> str | None:
    """None when the membership is billed for `year` (status and dates), else the Reason code."""
    if membership.status == Membership.Status.APPLICANT:
        return Reason.APPLICANT
    first, last = year_bounds(year)
    if membership.start_date > last:
        return Reason.STARTS_AFTER
    if membership.status == Membership.Status.TERMINATED:
        return Reason.TERMINATED
    if membership.status == Membership.Status.LAPSED:
        return Reason.LAPSED
    if membership.end_date is not None and membership.end_date < first:
        return Reason.ENDED
    return None if membership.status in BILLABLE else Reason.ENDED


def worth_listing(membership: Membership, year: int) -> bool:
    """Whether a membership left out for its dates/status is worth naming: not long gone."""
    return membership.end_date is None or membership.end_date >= dt.date(year - 1, 1, 1)


def period_text(first: int, last: int) -> str:
    months = last - first + 1
    if months == 12:
        return ""
    return _(" (%(a)s–%(b)s, %(n)s of 12 months)") % {"a": MONTHS[first - 1], "b": MONTHS[last - 1], "n": months}


# --- The dry run -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedLine:
    fee_kind: str
    description: str
    membership_id: int
    months: int
    unit_price: Decimal  # the annual fee
    amount: Decimal      # the annual fee prorated to `months`, rounded to the currency's minor unit
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class PlannedInvoice:
    issuer: str
    currency: str
    recipient_organisation: Organisation | None  # None: ORCID's invoice to the lead
    recipient_name: str
    tax_rate_percent: Decimal
    lines: tuple[PlannedLine, ...]
    totals: Totals
    supplementary: bool = False  # ORCID's second (or later) invoice of the cycle, for members added since

    @property
    def membership_ids(self) -> list[int]:
        return [line.membership_id for line in self.lines]


@dataclass(frozen=True)
class LeftOut:
    membership: Membership
    reason: str
    detail: str = ""

    @property
    def label(self) -> str:
        return str(Reason.LABELS[self.reason])


@dataclass(frozen=True)
class CurrencyTotal:
    issuer: str
    currency: str
    invoices: int
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


@dataclass
class DryRun:
    consortium: Consortium
    year: int
    schedule: FeeSchedule | None
    cycle: BillingCycle | None
    member_invoices: list[PlannedInvoice] = field(default_factory=list)
    orcid_invoice: PlannedInvoice | None = None
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def invoices(self) -> list[PlannedInvoice]:
        return self.member_invoices + ([self.orcid_invoice] if self.orcid_invoice else [])

    @property
    def totals(self) -> list[CurrencyTotal]:
        """Sums per issuer and currency (the lead's receivables and what it owes ORCID stay apart)."""
        sums: dict[tuple[str, str], list[Any]] = {}
        for invoice in self.invoices:
            row = sums.setdefault((invoice.issuer, invoice.currency), [0, Decimal(0), Decimal(0), Decimal(0)])
            row[0] += 1
            row[1] += invoice.totals.subtotal
            row[2] += invoice.totals.tax_total
            row[3] += invoice.totals.total
        return [CurrencyTotal(issuer, currency, *row) for (issuer, currency), row in sorted(sums.items())]

    @property
    def is_empty(self) -> bool:
        return not self.invoices


def cycle_dry_run(*, user: Any, consortium: Consortium, year: int) -> DryRun:
    """Every invoice committing the cycle now would create, the members left out and why, and totals."""
    require(user, VIEW, "billing", consortium_id=consortium.pk)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": _("Choose a year between %(a)s and %(b)s.") % {"a": FIRST_YEAR,
                                                                                      "b": LAST_YEAR}})
    from consortium_hub.billing.issuers import settings_for  # creates the issuer's defaults on first use

    return build_dry_run(
        consortium=consortium, year=year,
        memberships=Membership.objects.visible_to(user, VIEW, area="billing"),
        cycle=BillingCycle.objects.filter(consortium=consortium, year=year).first(),
        lead_settings=settings_for(issuer=Issuer.LEAD, consortium=consortium),
        orcid_settings=settings_for(issuer=Issuer.ORCID, consortium=consortium))


def build_dry_run(*, consortium: Consortium, year: int, memberships: QuerySet[Membership],
                  cycle: BillingCycle | None, lead_settings: BillingSettings,
                  orcid_settings: BillingSettings) -> DryRun:
    """The dry run from already access-checked inputs (the commit calls this with the cycle locked).

    What was already invoiced is read from every invoice of the cycle, whoever may see them: a lead
    admin cannot see ORCID's invoices but must not have them billed twice."""
    schedule = (FeeSchedule.objects.filter(consortium=consortium, year=year).prefetch_related("rates").first())
    run = DryRun(consortium=consortium, year=year, schedule=schedule, cycle=cycle)
    rows = list(memberships.filter(consortium=consortium).select_related("organisation")
                .order_by("organisation__legal_name", "organisation_id", "start_date", "pk"))
    invoiced_orgs = set(Invoice.objects.filter(cycle=cycle, issuer=Issuer.LEAD, kind=Invoice.Kind.INVOICE)
                        .values_list("recipient_organisation_id", flat=True)) if cycle else set()
    # ORCID bills a membership's licence once per consortium and year, on whichever ORCID invoice.
    orcid_lines = InvoiceLine.objects.filter(invoice__issuer=Issuer.ORCID, invoice__kind=Invoice.Kind.INVOICE,
                                             invoice__consortium=consortium, invoice__year=year,
                                             fee_kind=FeeKind.LICENCE, membership__isnull=False)
    orcid_billed = set(orcid_lines.values_list("membership_id", flat=True))
    orcid_invoice_exists = bool(cycle) and (
        Invoice.objects.filter(cycle=cycle, issuer=Issuer.ORCID, kind=Invoice.Kind.INVOICE).exists())
    rates: dict[RateKey, Decimal] = rates_by_key(schedule) if schedule else {}
    member_currency = schedule.consortium_fee_currency if schedule else consortium.billing_currency
    licence_on_member_invoice = member_currency == LICENCE_CURRENCY

    describe = _Descriptions(year)
    by_org: dict[int, list[Membership]] = defaultdict(list)
    for m in rows:
        by_org[m.organisation_id].append(m)
    orcid_lines_planned: list[PlannedLine] = []
    billed_members = 0
    for memberships_of_org in by_org.values():
        org = memberships_of_org[0].organisation
        billed = [m for m in memberships_of_org if overlaps(m, year) and why_not_billed(m, year) is None]
        if not billed:
            _leave_out_for_status(run, memberships_of_org, year)
            continue
        member_lines: list[PlannedLine] = []
        for m in billed:
            licence = rates.get((FeeKind.LICENCE, m.tier, ""))
            fee = rates.get((FeeKind.CONSORTIUM, m.tier, m.size))
            if schedule is None:
                run.left_out.append(LeftOut(m, Reason.NO_SCHEDULE, _("No fee schedule for %(y)s.") % {"y": year}))
                continue
            if licence is None or fee is None:
                run.left_out.append(LeftOut(m, Reason.NO_RATE, _missing_rates(m, licence is None, fee is None)))
                continue
            billed_members += 1
            first, last = billable_months(m, year)
            months = last - first + 1
            texts = describe(m.tier, m.size, first, last)
            member_side = org.pk not in invoiced_orgs
            orcid_side = m.pk not in orcid_billed
            if not member_side and not orcid_side:
                run.left_out.append(LeftOut(m, Reason.ALREADY_INVOICED))
                continue
            if not member_side:
                # One member invoice per organisation and cycle (the database's rule): a membership added to an
                # organisation invoiced already is billed by ORCID but cannot be added to the member's invoice.
                run.warnings.append(_("%(org)s was invoiced in this cycle already: its %(t)s membership from "
                                      "%(d)s is on ORCID's invoice but not on a member invoice; invoice it by hand.")
                                    % {"org": org.legal_name, "t": m.get_tier_display(), "d": m.start_date})
            new_lines = []
            if member_side:
                if licence_on_member_invoice:
                    new_lines.append(_line(FeeKind.LICENCE, texts.licence, m, months, licence, member_currency))
                new_lines.append(_line(FeeKind.CONSORTIUM, texts.consortium, m, months, fee, member_currency))
                member_lines.extend(line for line in new_lines if line.amount)
            orcid_line = None
            if orcid_side:
                orcid_line = _line(FeeKind.LICENCE, texts.orcid % {"org": org.legal_name[:150]}, m, months, licence,
                                   LICENCE_CURRENCY)
                if orcid_line.amount:
                    orcid_lines_planned.append(orcid_line)
            if not any(line.amount for line in new_lines) and not (orcid_line and orcid_line.amount):
                run.left_out.append(LeftOut(m, Reason.NOTHING_TO_BILL))
        if member_lines:
            run.member_invoices.append(_invoice(
                Issuer.LEAD, member_currency, org, org.legal_name, lead_settings, member_lines))
    if orcid_lines_planned:
        run.orcid_invoice = _invoice(Issuer.ORCID, LICENCE_CURRENCY, None, lead_settings.issuer_name,
                                     orcid_settings, orcid_lines_planned, supplementary=orcid_invoice_exists)
    _warn(run, schedule=schedule, member_currency=member_currency, billed_members=billed_members)
    return run


@dataclass(frozen=True)
class LineTexts:
    licence: str
    consortium: str
    orcid: str  # with %(org)s for the member's name


class _Descriptions:
    """Line descriptions per tier, size and period, translated once each (10,000 members share a few)."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.cache: dict[tuple[str, str, int, int], LineTexts] = {}

    def __call__(self, tier: str, size: str, first: int, last: int) -> LineTexts:
        key = (tier, size, first, last)
        if key not in self.cache:
            values = {"y": self.year, "t": Membership.Tier(tier).label, "s": Membership.Size(size).label,
                      "p": period_text(first, last)}
            self.cache[key] = LineTexts(
                licence=_("ORCID licence fee %(y)s – %(t)s%(p)s") % values,
                consortium=_("Consortium fee %(y)s – %(t)s, %(s)s%(p)s") % values,
                orcid=_("%(org)s: ORCID licence fee %(y)s – %(t)s%(p)s") % {**values, "org": "%(org)s"})
        return self.cache[key]


def _leave_out_for_status(run: DryRun, memberships: list[Membership], year: int) -> None:
    """An organisation with nothing billable: name its most telling membership, unless long gone."""
    overlapping = [m for m in memberships if overlaps(m, year)]
    if overlapping:
        m = overlapping[-1]
    else:
        later = [m for m in memberships if m.start_date > year_bounds(year)[1]]
        m = later[0] if later else memberships[-1]
        if not later and not worth_listing(m, year):
            return
    run.left_out.append(LeftOut(m, why_not_billed(m, year) or Reason.ENDED))


def _missing_rates(m: Membership, licence_missing: bool, fee_missing: bool) -> str:
    missing = []
    if licence_missing:
        missing.append(_("no licence fee for %(t)s") % {"t": m.get_tier_display()})
    if fee_missing:
        missing.append(_("no consortium fee for %(t)s, %(s)s") % {"t": m.get_tier_display(),
                                                                  "s": m.get_size_display()})
    text = "; ".join(missing)
    return text[:1].upper() + text[1:] + "."


def _line(kind: str, description: str, m: Membership, months: int, annual: Decimal, currency: str) -> PlannedLine:
    return PlannedLine(fee_kind=kind, description=description[:255], membership_id=m.pk, months=months,
                       unit_price=round_money(annual, currency),
                       amount=prorate_by_months(annual, months=months, currency=currency))


def _invoice(issuer: str, currency: str, org: Organisation | None, name: str, settings: BillingSettings,
             lines: list[PlannedLine], supplementary: bool = False) -> PlannedInvoice:
    return PlannedInvoice(
        issuer=issuer, currency=currency, recipient_organisation=org, recipient_name=name,
        tax_rate_percent=settings.tax_rate_percent, lines=tuple(lines), supplementary=supplementary,
        totals=totals(line_amounts=[line.amount for line in lines], tax_rate_percent=settings.tax_rate_percent,
                      currency=currency))


def size_band_for(members: int) -> str:
    for band, low in ((FeeSchedule.SizeBand.BAND_4, 51), (FeeSchedule.SizeBand.BAND_3, 21),
                      (FeeSchedule.SizeBand.BAND_2, 11)):
        if members >= low:
            return band
    return FeeSchedule.SizeBand.BAND_1


def _warn(run: DryRun, *, schedule: FeeSchedule | None, member_currency: str, billed_members: int) -> None:
    if schedule is None:
        run.warnings.append(_("There is no fee schedule for %(y)s: create one (or copy last year's) first.")
                            % {"y": run.year})
        return
    if member_currency != LICENCE_CURRENCY and run.member_invoices:
        run.warnings.append(_(
            "Consortium fees are in %(cur)s and licence fees in %(usd)s: member invoices carry the consortium fee "
            "only (an invoice has one currency); the licence fees are on ORCID's invoice to the lead.")
            % {"cur": member_currency, "usd": LICENCE_CURRENCY})
    band = size_band_for(billed_members)
    if billed_members and band != schedule.size_band:
        run.warnings.append(_(
            "%(n)s members are billed for %(y)s, which is the %(band)s band, but the schedule's licence fees are "
            "for %(schedule_band)s.") % {"n": billed_members, "y": run.year,
                                         "band": FeeSchedule.SizeBand(band).label,
                                         "schedule_band": schedule.get_size_band_display()})
    if run.orcid_invoice and run.orcid_invoice.supplementary:
        run.warnings.append(_("ORCID's invoice for %(y)s was issued already: the members added since go on a "
                              "supplementary ORCID invoice.") % {"y": run.year})


# --- Lists and history -----------------------------------------------------------------------------

def cycle_list(*, user: Any) -> QuerySet[BillingCycle]:
    """Cycles with their consortium, who last committed them and how many invoices they issued."""
    count = (Invoice.objects.filter(cycle=OuterRef("pk")).order_by().values("cycle")
             .annotate(n=Count("pk")).values("n"))
    return (BillingCycle.objects.visible_to(user)
            .select_related("consortium", "last_committed_by")
            .annotate(invoice_count=Coalesce(Subquery(count), 0))
            .order_by("-year", "consortium__name", "pk"))


def can_see_orcid_invoices(user: Any, consortium: Consortium) -> bool:
    return access_scope(user).can_in(VIEW, "orcid_billing", consortium_id=consortium.pk)


@dataclass(frozen=True)
class CommitEntry:
    at: Any
    user: Any
    member_invoices: int
    orcid_invoices: int
    first_number: str
    last_number: str


def cycle_invoices(cycle: BillingCycle) -> QuerySet[Invoice]:
    """The cycle's invoices, including supplementary ORCID invoices (kept without `cycle` while the
    database allows one ORCID invoice per cycle)."""
    return Invoice.objects.filter(Q(cycle=cycle) | Q(cycle__isnull=True, issuer=Issuer.ORCID,
                                                     kind=Invoice.Kind.INVOICE, consortium_id=cycle.consortium_id,
                                                     year=cycle.year))


def cycle_history(cycle: BillingCycle | None) -> list[CommitEntry]:
    """One entry per commit that issued invoices, newest first, from the cycle's change log: a commit
    saves the cycle (last committed at/by) after writing its invoices."""
    if cycle is None:
        return []
    records = list(ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(BillingCycle),
                                               object_id=str(cycle.pk), action=ChangeRecord.Action.UPDATE)
                   .select_related("user").order_by("at", "pk"))
    commits = [r for r in records if (r.after or {}).get("last_committed_at") != (r.before or {}).get(
        "last_committed_at") and (r.after or {}).get("last_committed_at")]
    invoices = list(cycle_invoices(cycle).order_by("created_at", "pk").values_list("created_at", "issuer", "number"))
    entries = []
    start = 0
    for record in commits:
        batch = []
        while start < len(invoices) and invoices[start][0] <= record.at:
            batch.append(invoices[start])
            start += 1
        numbers = [number for _at, issuer, number in batch if issuer == Issuer.LEAD]
        entries.append(CommitEntry(at=record.at, user=record.user,
                                   member_invoices=sum(1 for b in batch if b[1] == Issuer.LEAD),
                                   orcid_invoices=sum(1 for b in batch if b[1] == Issuer.ORCID),
                                   first_number=numbers[0] if numbers else "",
                                   last_number=numbers[-1] if numbers else ""))
    return list(reversed(entries))


def dry_run_as_dict(run: DryRun, *, include_orcid: bool) -> dict[str, Any]:
    """The API's view of a dry run (amounts as strings, never floats)."""

    def invoice(p: PlannedInvoice) -> dict[str, Any]:
        return {"issuer": p.issuer, "currency": p.currency, "supplementary": p.supplementary,
                "recipient_organisation": p.recipient_organisation.pk if p.recipient_organisation else None,
                "recipient_name": p.recipient_name, "tax_rate_percent": str(p.tax_rate_percent),
                "subtotal": str(p.totals.subtotal), "tax_total": str(p.totals.tax_total),
                "total": str(p.totals.total),
                "lines": [{"fee_kind": line.fee_kind, "description": line.description,
                           "membership": line.membership_id, "months": line.months,
                           "quantity": str(line.quantity), "unit_price": str(line.unit_price),
                           "amount": str(line.amount)} for line in p.lines]}

    return {
        "consortium": run.consortium.pk, "year": run.year, "schedule": run.schedule.pk if run.schedule else None,
        "cycle": run.cycle.pk if run.cycle else None,
        "member_invoices": [invoice(p) for p in run.member_invoices],
        "orcid_invoice": invoice(run.orcid_invoice) if include_orcid and run.orcid_invoice else None,
        "orcid_invoice_lines": len(run.orcid_invoice.lines) if run.orcid_invoice else 0,
        "left_out": [{"membership": lo.membership.pk, "organisation": lo.membership.organisation_id,
                      "organisation_name": lo.membership.organisation.legal_name, "reason": lo.reason,
                      "label": lo.label, "detail": lo.detail} for lo in run.left_out],
        "totals": [{"issuer": t.issuer, "currency": t.currency, "invoices": t.invoices, "subtotal": str(t.subtotal),
                    "tax_total": str(t.tax_total), "total": str(t.total)}
                   for t in run.totals if include_orcid or t.issuer != Issuer.ORCID],
        "warnings": run.warnings,
    }


def totals_visible(run: DryRun, user: Any) -> Iterable[CurrencyTotal]:
    show_orcid = can_see_orcid_invoices(user, run.consortium)
    return [t for t in run.totals if show_orcid or t.issuer != Issuer.ORCID]
