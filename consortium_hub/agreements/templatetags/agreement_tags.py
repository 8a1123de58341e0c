from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from consortium_hub.agreements import terms

register = template.Library()


@register.filter
def notice_deadline(agreement: Any) -> dt.date:
    """The last day to give notice: the end date minus the notice period."""
    return terms.notice_deadline(end_date=agreement.end_date, notice_days=agreement.notice_days)


@register.filter
def decision_of(agreement: Any) -> Any:
    """The renewal decision recorded for the agreement's term, or None (uses the prefetched decisions)."""
    decisions = list(agreement.decisions.all())
    return decisions[0] if decisions else None
