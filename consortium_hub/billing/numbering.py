"""Gapless invoice numbers per issuer and year.

The number is taken inside the caller's transaction with the sequence row locked
(select_for_update), so two commits cannot take the same number, and a rolled-back invoice
gives its number back: there are never gaps.
"""

from __future__ import annotations

import contextlib

from django.db import IntegrityError, transaction

from consortium_hub.billing.models import InvoiceSequence, Issuer


def issuer_key(*, issuer: str, consortium_id: int) -> str:
    return "orcid" if issuer == Issuer.ORCID else f"lead:{consortium_id}"


def take_number(*, issuer: str, consortium_id: int, year: int) -> int:
    """The next number of this issuer's year. Must run inside a transaction (atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Invoice numbers are taken inside the transaction that writes the invoice.")
    key = issuer_key(issuer=issuer, consortium_id=consortium_id)
    sequence = InvoiceSequence.objects.select_for_update().filter(issuer_key=key, year=year).first()
    if sequence is None:
        # A concurrent transaction may create it a moment before us: then lock theirs below.
        with contextlib.suppress(IntegrityError), transaction.atomic():
            InvoiceSequence.objects.create(issuer_key=key, year=year, last_number=0)
        sequence = InvoiceSequence.objects.select_for_update().get(issuer_key=key, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def format_number(*, prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:05d}"
