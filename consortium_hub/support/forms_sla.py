"""Forms of the SLA pages: one form for the four priorities' targets of a desk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium_hub.support.selectors.sla import TargetRow

FIELD_SUFFIXES = ("first_response_hours", "resolution_hours")


class SLATargetsForm(forms.Form):
    """`<priority>_first_response_hours` and `<priority>_resolution_hours` for every priority;
    the service checks that resolution is not shorter than first response."""

    def __init__(self, *args: Any, rows: list[TargetRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            for suffix, label, digits in (("first_response_hours", _("first response"), 6),
                                          ("resolution_hours", _("resolution"), 7)):
                self.fields[f"{row.priority}_{suffix}"] = forms.DecimalField(
                    label=f"{row.label}: {label}", min_value=Decimal("0.01"), max_digits=digits, decimal_places=2,
                    initial=getattr(row, suffix), help_text=_("Business hours"),
                    widget=forms.NumberInput(attrs={"step": "0.25", "min": "0.25"}))

    def table(self) -> list[dict[str, Any]]:
        """Rows for the template: the priority and its two bound fields."""
        return [{"row": row, "first": self[f"{row.priority}_first_response_hours"],
                 "resolution": self[f"{row.priority}_resolution_hours"]} for row in self.rows]

    def targets(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {row.priority: (self.cleaned_data[f"{row.priority}_first_response_hours"],
                               self.cleaned_data[f"{row.priority}_resolution_hours"]) for row in self.rows}
