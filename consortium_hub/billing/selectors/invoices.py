"""Reads of invoices, credit notes and payments: lists, the overdue list, a member's statement.

Every selector starts from `visible_to(user)`:
- the lead's invoices are for its billing staff and each member's own contacts, ORCID's invoices to the
  lead for ORCID finance and the lead's finance staff (models.by_issuer);
- drafts are seen only by those who may change them (a member never sees an unissued draft).

Invoices come annotated with `credited` (the sum of their credit notes, ≤ 0) and `balance_due`
(total + credited - paid, for issued invoices; 0 otherwise), and each row carries `money`: its
amounts formatted in its currency for pages (`inv.money.total`, `inv.money.balance_due`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (Case, Count, DecimalField, DurationField, ExpressionWrapper, F, OuterRef, Prefetch, Q,
                              QuerySet, Subquery, Sum, Value, When)
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable

from consortium_hub.billing.models import AMOUNT, Invoice, InvoiceLine, Payment
from consortium_hub.core.access import access_scope
from consortium_hub.core.money import Money, round_money
from consortium_hub.core.roles import CHANGE
from consortium_hub.directory.models import Organisation

DECIMAL = DecimalField(**AMOUNT)
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.OVERDUE)
OWING_STATUSES = (*OPEN_STATUSES, Invoice.Status.PAID)


class MoneyView:
    """An object's amounts formatted in its currency: `obj.money.total` → "£1,234.50"."""

    def __init__(self, obj: Any, currency: str) -> None:
        self._obj, self._currency = obj, currency

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._obj, name)
        return "" if value is None else Money(value, self._currency).format()


class _WithMoney(ModelIterable):
    def __iter__(self):  # type: ignore[override]
        for obj in super().__iter__():
            obj.money = MoneyView(obj, obj.currency)
            yield obj


def with_money(queryset: QuerySet) -> QuerySet:
    """Rows of this queryset (and of every queryset derived from it) carry `money`."""
    queryset = queryset.all()
    queryset._iterable_class = _WithMoney
    return queryset


def add_money(obj: Any, currency: str | None = None) -> Any:
    obj.money = MoneyView(obj, currency or obj.currency)
    return obj


def with_balances(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    credits = (Invoice.objects.filter(credited_invoice=OuterRef("pk"), kind=Invoice.Kind.CREDIT_NOTE).order_by()
               .values("credited_invoice").annotate(s=Sum("total")).values("s"))
    return queryset.annotate(
        credited=Coalesce(Subquery(credits, output_field=DECIMAL), Value(Decimal(0)), output_field=DECIMAL),
        balance_due=Case(When(kind=Invoice.Kind.INVOICE, status__in=OWING_STATUSES,
                              then=F("total") + F("credited") - F("amount_paid")),
                         default=Value(Decimal(0)), output_field=DECIMAL))


def visible_invoices(*, user: Any) -> QuerySet[Invoice]:
    queryset = Invoice.objects.visible_to(user)
    may_change = access_scope(user).q_for(Invoice, CHANGE)
    if may_change is None:
        return queryset
    return queryset.filter(~Q(status=Invoice.Status.DRAFT) | may_change)


def invoice_list(*, user: Any) -> QuerySet[Invoice]:
    """Invoices and credit notes with what every list shows: consortium, recipient, credited invoice."""
    return with_money(with_balances(visible_invoices(user=user)).select_related(
        "consortium", "consortium__lead_organisation", "recipient_organisation", "credited_invoice"))


def invoice_detail(*, user: Any) -> QuerySet[Invoice]:
    """For one invoice's page: its lines, payments (with who recorded them) and credit notes."""
    return invoice_list(user=user).select_related("cycle").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.select_related("membership")),
        Prefetch("payments", queryset=Payment.objects.select_related("recorded_by").order_by("received_on", "pk")),
        Prefetch("credit_notes", queryset=Invoice.objects.order_by("issue_date", "pk")))


def is_overdue(today: dt.date) -> Q:
    return Q(kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=today, balance_due__gt=0)


def overdue_list(*, user: Any, today: dt.date) -> QuerySet[Invoice]:
    """Issued invoices past their due date with something still to pay, oldest due first (whatever the
    daily pass has set their status to yet)."""
    return (invoice_list(user=user).filter(is_overdue(today))
            .annotate(days_overdue=ExpressionWrapper(Value(today) - F("due_date"), output_field=DurationField()))
            .order_by("due_date", "number", "pk"))


def currency_totals(queryset: QuerySet[Invoice]) -> list[dict[str, Any]]:
    """Per currency: how many documents, their total and the balance due (one query)."""
    rows = (queryset.order_by().values("currency")
            .annotate(count=Count("pk"), sum_total=Sum("total"), sum_due=Sum("balance_due")).order_by("currency"))
    totals = []
    for row in rows:
        currency = row["currency"]
        total = round_money(row["sum_total"] or 0, currency)
        due = round_money(row["sum_due"] or 0, currency)
        totals.append({"currency": currency, "count": row["count"], "total": total, "balance_due": due,
                       "total_display": Money(total, currency).format(),
                       "balance_due_display": Money(due, currency).format()})
    return totals


def payment_list(*, user: Any) -> QuerySet[Payment]:
    return (Payment.objects.visible_to(user)
            .select_related("invoice", "invoice__consortium", "invoice__recipient_organisation", "recorded_by")
            .order_by("-received_on", "-pk"))


# --- Statement --------------------------------------------------------------------------------------

@dataclass
class StatementEntry:
    date: dt.date
    kind: str  # "invoice", "credit_note", "payment"
    document: str
    description: str
    currency: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Decimal(0)
    invoice_id: int | None = None

    def __post_init__(self) -> None:
        self.debit, self.credit = round_money(self.debit, self.currency), round_money(self.credit, self.currency)

    def show(self, amount: Decimal) -> str:
        return Money(amount, self.currency).format() if amount else ""

    @property
    def debit_display(self) -> str:
        return self.show(self.debit)

    @property
    def credit_display(self) -> str:
        return self.show(self.credit)

    @property
    def balance_display(self) -> str:
        return Money(self.balance, self.currency).format()


@dataclass
class Statement:
    organisation: Organisation
    entries: dict[str, list[StatementEntry]] = field(default_factory=dict)  # per currency, in date order

    @property
    def balances(self) -> dict[str, Decimal]:
        return {currency: rows[-1].balance for currency, rows in self.entries.items() if rows}

    @property
    def balances_display(self) -> list[tuple[str, str]]:
        return [(c, Money(b, c).format()) for c, b in self.balances.items()]


_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2}


def statement(*, user: Any, organisation: Organisation, currency: str | None = None) -> Statement:
    """What the member was invoiced and credited, what it paid, and the running balance per currency.
    Only issued documents count (drafts and voided drafts have no number)."""
    documents = (visible_invoices(user=user).filter(recipient_organisation=organisation, sequence__isnull=False)
                 .select_related("credited_invoice"))
    payments = Payment.objects.visible_to(user).filter(invoice__recipient_organisation=organisation).select_related(
        "invoice")
    if currency:
        documents, payments = documents.filter(currency=currency), payments.filter(invoice__currency=currency)
    rows: list[StatementEntry] = []
    for doc in documents:
        if doc.kind == Invoice.Kind.INVOICE:
            rows.append(StatementEntry(doc.issue_date, "invoice", doc.number,
                                       f"Invoice, due {doc.due_date:%Y-%m-%d}", doc.currency, doc.total,
                                       Decimal(0), invoice_id=doc.pk))
        else:
            credited = doc.credited_invoice.number if doc.credited_invoice else ""
            rows.append(StatementEntry(doc.issue_date, "credit_note", doc.number, f"Credit note for {credited}",
                                       doc.currency, Decimal(0), -doc.total, invoice_id=doc.pk))
    for payment in payments:
        reference = f" ({payment.reference})" if payment.reference else ""
        rows.append(StatementEntry(payment.received_on, "payment", payment.invoice.number,
                                   f"Payment{reference}", payment.invoice.currency, Decimal(0), payment.amount,
                                   invoice_id=payment.invoice_id))
    rows.sort(key=lambda r: (r.date, _ORDER[r.kind], r.document))
    result = Statement(organisation=organisation)
    running: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        running[row.currency] = round_money(running[row.currency] + row.debit - row.credit, row.currency)
        row.balance = running[row.currency]
        result.entries.setdefault(row.currency, []).append(row)
    result.entries = dict(sorted(result.entries.items()))
    return result
