"""Payments received on issued invoices.

A payment lowers the invoice's balance (total + credit notes - payments); the status follows:
issued → partially paid → paid (overdue while past due and unpaid in part). A payment larger than the
balance is refused (nothing is recorded), and so are payments on drafts, void invoices and credit notes.
The invoice row is locked while the payment is recorded, so two clerks cannot overpay it together.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consortium_hub.billing.models import Invoice, Payment
from consortium_hub.billing.services.invoices import area_for, credited_total, settled_status
from consortium_hub.core.access import require
from consortium_hub.core.money import FloatNotAllowed, Money, round_money, to_decimal
from consortium_hub.core.roles import CHANGE


@transaction.atomic
def payment_record(*, user: Any, invoice: Invoice, amount: Decimal | str | int, received_on: dt.date,
                   reference: str = "") -> Payment:
    if user is not None:
        require(user, CHANGE, area_for(invoice.issuer), consortium_id=invoice.consortium_id)
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    try:
        amount = to_decimal(amount)
    except FloatNotAllowed:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad number from outside
        raise ValidationError({"amount": _("“%(v)s” is not an amount.") % {"v": amount}}) from exc
    if locked.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("Payments are recorded on invoices, not on credit notes."))
    if locked.status == Invoice.Status.DRAFT:
        raise ValidationError(_("This invoice is a draft: issue it before recording payments."))
    if locked.status == Invoice.Status.VOID:
        raise ValidationError(_("%(doc)s is void: nothing can be paid on it.") % {"doc": locked})
    if amount <= 0:
        raise ValidationError({"amount": _("A payment is more than zero.")})
    if amount != round_money(amount, locked.currency):
        raise ValidationError({"amount": _("%(a)s has more decimal places than %(c)s allows.")
                               % {"a": amount, "c": locked.currency}})
    today = timezone.localdate()
    if received_on > today:
        raise ValidationError({"received_on": _("A payment cannot be received in the future.")})
    credited = credited_total(locked)
    balance = round_money(locked.total + credited - locked.amount_paid, locked.currency)
    if balance <= 0:
        raise ValidationError({"amount": _("%(doc)s is already paid in full.") % {"doc": locked}})
    if amount > balance:
        raise ValidationError({"amount": _(
            "This payment of %(a)s is more than the %(b)s still due on %(doc)s. Record at most %(b)s; "
            "an overpayment is refunded or credited outside the hub.")
            % {"a": Money(amount, locked.currency), "b": Money(balance, locked.currency), "doc": locked}})
    payment = Payment(invoice=locked, amount=amount, received_on=received_on, reference=reference.strip()[:120],
                      recorded_by=user if getattr(user, "is_authenticated", False) else None)
    payment.full_clean()
    payment.save()
    locked.amount_paid += amount
    locked.status = settled_status(locked, today=today, credited=credited)
    locked.save(update_fields=["amount_paid", "status", "updated_at"])
    invoice.amount_paid, invoice.status = locked.amount_paid, locked.status
    return payment
