"""Receivables: what is still owed, per issuer and consortium, per currency, by age.

Age is days past the due date on `today`: not yet due, 0–30, 31–60, 61–90 and over 90. Currencies are
never added together. Rows come from `visible_to(user)`, so a lead sees its own consortium, ORCID staff
with the grant every consortium, and a member contact its own organisation's invoices. Amounts are
summed in Python as Decimals (one query, whatever the number of invoices).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from consortium_hub.billing.models import Invoice, Issuer
from consortium_hub.billing.selectors.invoices import OPEN_STATUSES, visible_invoices, with_balances
from consortium_hub.core.money import Money, round_money

BUCKETS: list[tuple[str, Any]] = [
    ("not_due", _("Not yet due")),
    ("days_0_30", _("0–30 days")),
    ("days_31_60", _("31–60 days")),
    ("days_61_90", _("61–90 days")),
    ("days_over_90", _("Over 90 days")),
]
PAST_DUE = [key for key, _label in BUCKETS if key != "not_due"]


def bucket_for(days_past_due: int) -> str:
    if days_past_due < 0:
        return "not_due"
    if days_past_due <= 30:
        return "days_0_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "days_over_90"


@dataclass
class ReceivablesRow:
    issuer: str
    consortium_id: int
    consortium: str
    currency: str
    invoices: int = 0
    amounts: dict[str, Decimal] = field(default_factory=lambda: {key: Decimal(0) for key, _l in BUCKETS})

    @property
    def owed_by(self) -> str:
        return str(_("the lead")) if self.issuer == Issuer.ORCID else str(_("members"))

    @property
    def issuer_label(self) -> str:
        return "ORCID" if self.issuer == Issuer.ORCID else f"{self.consortium} ({_('lead')})"

    @property
    def total(self) -> Decimal:
        return round_money(sum(self.amounts.values(), Decimal(0)), self.currency)

    @property
    def past_due(self) -> Decimal:
        return round_money(sum((self.amounts[k] for k in PAST_DUE), Decimal(0)), self.currency)

    @property
    def cells(self) -> list[tuple[str, Decimal, str]]:
        """(bucket key, amount, formatted) in bucket order, for tables and CSV."""
        return [(key, round_money(self.amounts[key], self.currency), Money(self.amounts[key], self.currency).format())
                for key, _l in BUCKETS]

    @property
    def total_display(self) -> str:
        return Money(self.total, self.currency).format()


@dataclass
class Receivables:
    today: dt.date
    rows: list[ReceivablesRow]
    totals: list[ReceivablesRow]  # one per currency (issuer/consortium blank), for the charts

    @property
    def buckets(self) -> list[tuple[str, Any]]:
        return BUCKETS


def receivables(*, user: Any, today: dt.date, issuer: str | None = None, consortium_id: int | None = None,
                currency: str | None = None) -> Receivables:
    invoices = with_balances(visible_invoices(user=user)).filter(
        kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES, balance_due__gt=0)
    if issuer:
        invoices = invoices.filter(issuer=issuer)
    if consortium_id:
        invoices = invoices.filter(consortium_id=consortium_id)
    if currency:
        invoices = invoices.filter(currency=currency)
    values = invoices.order_by().values_list("issuer", "consortium_id", "consortium__name", "currency", "due_date",
                                             "total", "credited", "amount_paid")
    rows: dict[tuple[str, int, str], ReceivablesRow] = {}
    totals: dict[str, ReceivablesRow] = {}
    for row_issuer, cons_id, cons_name, cur, due_date, total, credited, paid in values:
        owed = round_money(total + credited - paid, cur)  # Decimal arithmetic, not the database's
        bucket = bucket_for((today - due_date).days)
        for target in (rows.setdefault((row_issuer, cons_id, cur), ReceivablesRow(row_issuer, cons_id, cons_name, cur)),
                       totals.setdefault(cur, ReceivablesRow("", 0, "", cur))):
            target.amounts[bucket] += owed
            target.invoices += 1
    ordered = sorted(rows.values(), key=lambda r: (r.issuer != Issuer.ORCID, r.consortium, r.currency))
    return Receivables(today=today, rows=ordered, totals=[totals[c] for c in sorted(totals)])


def receivables_csv_rows(report: Receivables) -> list[list[str]]:
    header = ["issuer", "consortium", "currency", "invoices", *[key for key, _l in BUCKETS], "total"]
    body = [[row.issuer, row.consortium, row.currency, str(row.invoices),
             *[str(amount) for _k, amount, _f in row.cells], str(row.total)] for row in report.rows]
    return [header, *body]
