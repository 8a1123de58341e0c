"""Invoices and credit notes: drafts, issuing (gapless numbers, snapshots, totals), voiding, credit notes,
and sending the issued documents to their recipients.

Rules kept here (the database keeps the numbering ones, see models.Invoice.Meta):

- A draft has no number. `invoice_issue` takes the next number of the issuer's sequence for the
  invoice's `year` (numbering.take_number, inside this transaction, so a rolled-back issue gives the
  number back), sets the issue and due dates, snapshots issuer and recipient and computes the totals.
- Issued documents never change. Services that would edit lines or amounts of an issued invoice refuse;
  corrections are credit notes.
- A credit note is a document of its own: kind credit_note, negative amounts, its own number in the
  same issuer sequence, linked through `credited_invoice`. It lowers the credited invoice's balance
  (balance due = total + credit notes' totals - payments). A credit note may not exceed what is still
  open on the invoice: money already received is refunded outside the hub, so balances never go negative.
- A full credit (everything open credited, nothing paid) makes the invoice void: nothing is owed and
  nothing can be paid on it. A partial credit keeps the invoice's status; if it settles what payments
  left open, the invoice is paid.
- Amounts are Decimal, rounded explicitly per currency (core.money, billing.calculations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.billing import calculations, numbering
from consortium_hub.billing.issuers import settings_for
from consortium_hub.billing.models import LICENCE_CURRENCY, BillingSettings, BillingCycle, Invoice, InvoiceLine, Issuer
from consortium_hub.core.access import require
from consortium_hub.core.money import FloatNotAllowed, Money, round_money, to_decimal
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Consortium, Membership, Organisation

# Invoices that are issued and may still be owed something.
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.OVERDUE)
# Invoices that were issued (have a number), whatever happened since.
ISSUED_STATUSES = (*OPEN_STATUSES, Invoice.Status.PAID, Invoice.Status.VOID)


def area_for(issuer: str) -> str:
    """The access area of an issuer's documents (see models.by_issuer)."""
    return "orcid_billing" if issuer == Issuer.ORCID else "billing"


def _check(user: Any, action: str, invoice: Invoice) -> None:
    """user=None is the system (the billing cycle's commit, jobs): its caller has checked access."""
    if user is not None:
        require(user, action, area_for(invoice.issuer), consortium_id=invoice.consortium_id)


@dataclass(frozen=True)
class LineInput:
    """One line of a new document. quantity × unit_price is rounded to the currency's minor unit."""

    description: str
    unit_price: Decimal | str | int
    quantity: Decimal | str | int = 1
    fee_kind: str = ""
    membership: Membership | None = None
    months: int = 12


@dataclass(frozen=True)
class CreditLine:
    """A partial credit: `amount` (positive, tax excluded) is credited with this description."""

    description: str
    amount: Decimal | str | int


def _as_line_inputs(lines: Iterable[LineInput | Mapping[str, Any]]) -> list[LineInput]:
    return [line if isinstance(line, LineInput) else LineInput(**line) for line in lines]


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return to_decimal(value)
    except FloatNotAllowed:
        raise
    except Exception as exc:  # noqa: BLE001 - InvalidOperation, TypeError: a bad number from outside
        raise ValidationError({field: _("“%(v)s” is not a number.") % {"v": value}}) from exc


def _build_lines(invoice: Invoice, lines: Sequence[LineInput]) -> list[InvoiceLine]:
    if not lines:
        raise ValidationError({"lines": _("An invoice needs at least one line.")})
    built = []
    for position, line in enumerate(lines, start=1):
        quantity = _decimal(line.quantity, "lines")
        unit_price = _decimal(line.unit_price, "lines")
        if quantity <= 0:
            raise ValidationError({"lines": _("Line %(n)d: the quantity must be more than zero.") % {"n": position}})
        if not str(line.description).strip():
            raise ValidationError({"lines": _("Line %(n)d needs a description.") % {"n": position}})
        if unit_price != round_money(unit_price, invoice.currency):
            raise ValidationError({"lines": _("Line %(n)d: %(p)s has more decimal places than %(c)s allows.")
                                   % {"n": position, "p": unit_price, "c": invoice.currency}})
        built.append(InvoiceLine(
            invoice=invoice, position=position, description=str(line.description).strip()[:255],
            fee_kind=line.fee_kind, membership=line.membership, months=line.months, quantity=quantity,
            unit_price=unit_price,
            amount=calculations.line_amount(quantity=quantity, unit_price=unit_price, currency=invoice.currency)))
    return built


def _apply_totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    totals = calculations.totals(line_amounts=[line.amount for line in lines],
                                 tax_rate_percent=invoice.tax_rate_percent, currency=invoice.currency)
    invoice.subtotal, invoice.tax_total, invoice.total = totals.subtotal, totals.tax_total, totals.total


def _save_lines(lines: Sequence[InvoiceLine]) -> None:
    for line in lines:
        line.full_clean(exclude=["invoice"])
        line.save()  # one by one: every line is audited


@transaction.atomic
def invoice_create_manual(*, user: Any, issuer: str, consortium: Consortium,
                          lines: Sequence[LineInput | Mapping[str, Any]],
                          recipient_organisation: Organisation | None = None, currency: str | None = None,
                          year: int | None = None, tax_rate_percent: Decimal | str | None = None,
                          recipient_tax_id: str = "", cycle: BillingCycle | None = None) -> Invoice:
    """A draft invoice: from the lead to one of its members, or from ORCID to the lead (no organisation).

    Defaults: the lead bills in the consortium's billing currency, ORCID in USD; the tax rate is the
    issuer's (BillingSettings); `year` (the numbering year) is this year. Nothing is numbered yet.
    """
    if issuer not in Issuer.values:
        raise ValidationError({"issuer": _("Unknown issuer %(i)s.") % {"i": issuer}})
    if user is not None:
        require(user, ADD, area_for(issuer), consortium_id=consortium.pk)
    if issuer == Issuer.LEAD:
        if recipient_organisation is None:
            raise ValidationError({"recipient_organisation": _("Name the member the lead invoices.")})
        if recipient_organisation.consortium_id != consortium.pk:
            raise ValidationError({"recipient_organisation": _("%(org)s is not a member of %(c)s.")
                                   % {"org": recipient_organisation, "c": consortium}})
        if consortium.lead_organisation_id and recipient_organisation.pk == consortium.lead_organisation_id:
            raise ValidationError({"recipient_organisation": _("The lead does not invoice itself.")})
    elif recipient_organisation is not None:
        raise ValidationError({"recipient_organisation": _("ORCID invoices the consortium lead, not a member.")})
    if cycle is not None and cycle.consortium_id != consortium.pk:
        raise ValidationError({"cycle": _("This billing cycle belongs to another consortium.")})
    issuer_settings = settings_for(issuer=issuer, consortium=consortium)
    currency = (currency or (LICENCE_CURRENCY if issuer == Issuer.ORCID else consortium.billing_currency)).upper()
    identifiers.validate_currency(currency)
    rate = (issuer_settings.tax_rate_percent if tax_rate_percent is None
            else _decimal(tax_rate_percent, "tax_rate_percent"))
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValidationError({"tax_rate_percent": _("The tax rate is a percentage from 0 to 100.")})
    invoice = Invoice(kind=Invoice.Kind.INVOICE, issuer=issuer, consortium=consortium,
                      recipient_organisation=recipient_organisation, cycle=cycle,
                      year=year or timezone.localdate().year, currency=currency, status=Invoice.Status.DRAFT,
                      tax_rate_percent=rate, recipient_tax_id=recipient_tax_id.strip())
    built = _build_lines(invoice, _as_line_inputs(lines))
    _apply_totals(invoice, built)
    invoice.full_clean()
    invoice.save()
    _save_lines(built)
    return invoice


def _refuse_unless_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise ValidationError(_("%(doc)s is %(status)s: issued documents never change. Correct it with a credit "
                                "note.") % {"doc": invoice, "status": invoice.get_status_display().lower()})


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


@transaction.atomic
def invoice_update_draft(*, user: Any, invoice: Invoice,
                         lines: Sequence[LineInput | Mapping[str, Any]] | None = None,
                         tax_rate_percent: Decimal | str | None = None,
                         recipient_tax_id: str | None = None) -> Invoice:
    """Change a draft's lines, tax rate or recipient tax id. Refused once the invoice is issued."""
    _check(user, CHANGE, invoice)
    locked = _locked(invoice)
    _refuse_unless_draft(locked)
    if tax_rate_percent is not None:
        locked.tax_rate_percent = _decimal(tax_rate_percent, "tax_rate_percent")
    if recipient_tax_id is not None:
        locked.recipient_tax_id = recipient_tax_id.strip()
    if lines is not None:
        built = _build_lines(locked, _as_line_inputs(lines))
        for old in list(locked.lines.all()):
            old.delete()
        _save_lines(built)
    else:
        built = list(locked.lines.all())
    _apply_totals(locked, built)
    locked.full_clean()
    locked.save()
    return locked


@transaction.atomic
def invoice_void_draft(*, user: Any, invoice: Invoice) -> Invoice:
    """A draft that will not be issued. It never had a number, so no gap appears."""
    _check(user, CHANGE, invoice)
    locked = _locked(invoice)
    if locked.status != Invoice.Status.DRAFT:
        raise ValidationError(_("Only drafts can be voided; %(doc)s is issued. Correct it with a credit note.")
                              % {"doc": locked})
    locked.status = Invoice.Status.VOID
    locked.save(update_fields=["status", "updated_at"])
    return locked


# --- Issuing ----------------------------------------------------------------------------------------

def _issuer_snapshot(issuer_settings: BillingSettings) -> str:
    parts = [issuer_settings.issuer_name, issuer_settings.issuer_address.strip()]
    if issuer_settings.issuer_tax_id:
        parts.append(_("Tax id: %(id)s") % {"id": issuer_settings.issuer_tax_id})
    return "\n".join(p for p in parts if p)


def _organisation_address(org: Organisation) -> str:
    place = ", ".join(p for p in (org.city, org.region) if p)
    return "\n".join(p for p in (org.legal_name, place, str(org.country.name or "")) if p)


def _recipient_snapshot(invoice: Invoice) -> tuple[str, str]:
    """(details, tax id) of the recipient now: the member, or for ORCID's invoices the lead (whose own
    billing settings hold its address and tax id)."""
    if invoice.issuer == Issuer.LEAD:
        return _organisation_address(invoice.recipient_organisation), invoice.recipient_tax_id
    consortium = invoice.consortium
    lead_settings = settings_for(issuer=Issuer.LEAD, consortium=consortium)
    name = consortium.lead_organisation.legal_name if consortium.lead_organisation else lead_settings.issuer_name
    lines = [name, _("Lead of %(c)s") % {"c": consortium.name}, lead_settings.issuer_address.strip()]
    return "\n".join(p for p in lines if p), invoice.recipient_tax_id or lead_settings.issuer_tax_id


def _number(invoice: Invoice, issuer_settings: BillingSettings) -> None:
    invoice.sequence = numbering.take_number(issuer=invoice.issuer, consortium_id=invoice.consortium_id,
                                             year=invoice.year)
    invoice.number = numbering.format_number(prefix=issuer_settings.invoice_prefix, year=invoice.year,
                                             sequence=invoice.sequence)


@transaction.atomic
def invoice_issue(*, user: Any, invoice: Invoice, issue_date: dt.date | None = None,
                  notify: bool = False) -> Invoice:
    """Number and issue a draft. `notify` emails it to its recipients once this transaction commits
    (pages and the API do; the billing cycle calls `after_issue` for all its invoices at once)."""
    _check(user, CHANGE, invoice)
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins select_related makes.
    locked = Invoice.objects.select_for_update(of=("self",)).select_related(
        "consortium__lead_organisation", "recipient_organisation").get(pk=invoice.pk)
    if locked.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("Credit notes are issued when they are created."))
    if locked.status != Invoice.Status.DRAFT:
        raise ValidationError(_("%(doc)s is already issued.") % {"doc": locked})
    lines = list(locked.lines.all())
    if not lines:
        raise ValidationError(_("An invoice needs at least one line."))
    _apply_totals(locked, lines)
    if locked.total <= 0:
        raise ValidationError(_("Nothing to invoice: the total is %(t)s.")
                              % {"t": Money(locked.total, locked.currency)})
    issuer_settings = settings_for(issuer=locked.issuer, consortium=locked.consortium)
    locked.issue_date = issue_date or timezone.localdate()
    locked.due_date = locked.issue_date + dt.timedelta(days=issuer_settings.due_days)
    locked.issuer_details = _issuer_snapshot(issuer_settings)
    locked.recipient_details, locked.recipient_tax_id = _recipient_snapshot(locked)
    _number(locked, issuer_settings)
    locked.status = Invoice.Status.ISSUED
    locked.full_clean()
    locked.save()
    if notify:
        after_issue([locked.pk])
    invoice.refresh_from_db()
    return locked


# --- Balances and status ------------------------------------------------------------------------------

def credited_total(invoice: Invoice) -> Decimal:
    """The (negative) sum of the invoice's credit notes, exact (summed in Python, not in the database)."""
    totals = Invoice.objects.filter(credited_invoice_id=invoice.pk, kind=Invoice.Kind.CREDIT_NOTE).values_list(
        "total", flat=True)
    return round_money(sum(totals, Decimal(0)), invoice.currency)


def balance_due(invoice: Invoice, *, credited: Decimal | None = None) -> Decimal:
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        return Decimal(0)
    credited = credited_total(invoice) if credited is None else credited
    return round_money(invoice.total + credited - invoice.amount_paid, invoice.currency)


def settled_status(invoice: Invoice, *, today: dt.date, credited: Decimal | None = None) -> str:
    """The status an issued invoice should have now (drafts and void invoices keep theirs)."""
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        return invoice.status
    credited = credited_total(invoice) if credited is None else credited
    if invoice.total + credited == 0 and invoice.amount_paid == 0:
        return Invoice.Status.VOID  # fully credited
    if invoice.total + credited - invoice.amount_paid <= 0:
        return Invoice.Status.PAID
    if invoice.due_date and invoice.due_date < today:
        return Invoice.Status.OVERDUE
    return Invoice.Status.PARTIALLY_PAID if invoice.amount_paid > 0 else Invoice.Status.ISSUED


# --- Credit notes -----------------------------------------------------------------------------------

def _credit_lines(invoice: Invoice, note: Invoice, lines: Sequence[CreditLine | Mapping[str, Any]] | None,
                  reason: str) -> list[InvoiceLine]:
    """The credit note's lines (negative). The reason is kept on every line: it prints on the document."""
    built = []
    if lines is None:  # a full credit mirrors every line of the invoice
        for position, line in enumerate(invoice.lines.all(), start=1):
            built.append(InvoiceLine(
                invoice=note, position=position, description=f"{reason}: {line.description}"[:255],
                fee_kind=line.fee_kind, membership_id=line.membership_id, months=line.months,
                quantity=line.quantity, unit_price=-line.unit_price, amount=-line.amount))
        return built
    if not lines:
        raise ValidationError({"lines": _("Name at least one amount to credit.")})
    for position, line in enumerate(lines, start=1):
        line = line if isinstance(line, CreditLine) else CreditLine(**line)
        amount = _decimal(line.amount, "lines")
        if amount <= 0:
            raise ValidationError({"lines": _("Line %(n)d: credit a positive amount.") % {"n": position}})
        if amount != round_money(amount, invoice.currency):
            raise ValidationError({"lines": _("Line %(n)d: %(a)s has more decimal places than %(c)s allows.")
                                   % {"n": position, "a": amount, "c": invoice.currency}})
        description = str(line.description).strip()
        description = f"{reason}: {description}" if description else reason
        built.append(InvoiceLine(invoice=note, position=position, description=description[:255], quantity=1,
                                 unit_price=-amount, amount=-amount))
    return built


@transaction.atomic
def credit_note_create(*, user: Any, invoice: Invoice, reason: str,
                       lines: Sequence[CreditLine | Mapping[str, Any]] | None = None,
                       issue_date: dt.date | None = None, notify: bool = False) -> Invoice:
    """Issue a credit note against an issued invoice: `lines=None` credits it in full (and voids it);
    otherwise each CreditLine credits an amount (tax excluded: the invoice's tax rate applies)."""
    _check(user, CHANGE, invoice)
    original = Invoice.objects.select_for_update().select_related("consortium").get(pk=invoice.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the invoice is credited: it prints on the credit note.")})
    if original.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("A credit note cannot itself be credited."))
    if original.status not in (*OPEN_STATUSES, Invoice.Status.PAID):
        raise ValidationError(_("Only issued invoices can be credited; %(doc)s is %(status)s.")
                              % {"doc": original, "status": original.get_status_display().lower()})
    today = issue_date or timezone.localdate()
    note = Invoice(kind=Invoice.Kind.CREDIT_NOTE, issuer=original.issuer, consortium=original.consortium,
                   recipient_organisation_id=original.recipient_organisation_id, credited_invoice=original,
                   year=today.year, currency=original.currency, status=Invoice.Status.ISSUED, issue_date=today,
                   recipient_details=original.recipient_details, recipient_tax_id=original.recipient_tax_id,
                   tax_rate_percent=original.tax_rate_percent, note=reason)
    built = _credit_lines(original, note, lines, reason[:200])
    _apply_totals(note, built)
    credited = credited_total(original)
    still_open = round_money(original.total + credited - original.amount_paid, original.currency)
    if -note.total > still_open:
        if still_open == 0:
            raise ValidationError(_("Nothing is open on %(doc)s to credit.") % {"doc": original})
        raise ValidationError(_("This credit of %(c)s is more than the %(o)s still open on %(doc)s. Payments "
                                "already received are refunded outside the hub; credit at most %(o)s.")
                              % {"c": Money(-note.total, note.currency), "o": Money(still_open, note.currency),
                                 "doc": original})
    issuer_settings = settings_for(issuer=original.issuer, consortium=original.consortium)
    note.issuer_details = _issuer_snapshot(issuer_settings)
    _number(note, issuer_settings)
    note.full_clean()
    note.save()
    _save_lines(built)
    status = settled_status(original, today=timezone.localdate(), credited=credited + note.total)
    if status != original.status:
        original.status = status
        original.save(update_fields=["status", "updated_at"])
    if notify:
        after_issue([note.pk])
    return note


# --- Sending ----------------------------------------------------------------------------------------

EMAIL_BATCH = 200


def after_issue(invoice_ids: list[int]) -> None:
    """Email each issued document's PDF to its recipients, from the job queue, once this transaction
    commits. The billing cycle calls this after committing; each document is sent once."""
    from consortium_hub.billing import tasks
    from consortium_hub.jobs.queue import enqueue

    # One job per batch: a 10,000-member cycle must not enqueue 10,000 jobs inside its request.
    for start in range(0, len(invoice_ids), EMAIL_BATCH):
        enqueue(tasks.email_invoices, list(invoice_ids[start:start + EMAIL_BATCH]))


def recipients_of(invoice: Invoice) -> list[str]:
    """A member's invoice contacts (its main contact when it has none); for ORCID's invoices the
    lead's finance staff (its lead admins when it has none)."""
    from consortium_hub.accounts.models import RoleAssignment
    from consortium_hub.core.roles import Role
    from consortium_hub.directory.models import Contact, ContactRole

    if invoice.issuer == Issuer.LEAD:
        for kind in (ContactRole.Kind.INVOICE, ContactRole.Kind.MAIN):
            emails = sorted(set(Contact.objects.filter(organisation_id=invoice.recipient_organisation_id,
                                                       roles__role=kind).values_list("email", flat=True)))
            if emails:
                return emails
        return []
    for role in (Role.LEAD_FINANCE, Role.LEAD_ADMIN):
        emails = sorted(set(RoleAssignment.objects.filter(consortium_id=invoice.consortium_id, role=role,
                                                          user__is_active=True)
                            .values_list("user__email", flat=True)))
        if emails:
            return emails
    return []


def send_document_email(*, invoice_id: int, template: str, extra: Mapping[str, Any] | None = None) -> int:
    """Render the document's PDF and email it to its recipients; returns how many addresses."""
    from django.urls import reverse

    from consortium_hub.billing.pdf import pdf_filename, render_invoice_pdf
    from consortium_hub.core.email import send_templated_email

    invoice = Invoice.objects.select_related("consortium", "recipient_organisation", "credited_invoice").get(
        pk=invoice_id)
    to = recipients_of(invoice)
    if not to:
        return 0
    issuer_settings = settings_for(issuer=invoice.issuer, consortium=invoice.consortium)
    context = {"invoice": invoice, "issuer_name": issuer_settings.issuer_name,
               "total": Money(invoice.total, invoice.currency),
               "balance": Money(balance_due(invoice), invoice.currency),
               "detail_path": reverse("billing:invoice_detail", args=[invoice.pk]), **(extra or {})}
    send_templated_email(
        to=to, template=template, context=context,
        attachments=[(pdf_filename(invoice), render_invoice_pdf(invoice), "application/pdf")])
    return len(to)
