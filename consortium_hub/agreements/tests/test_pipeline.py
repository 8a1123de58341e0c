"""The renewal pipeline: which agreements fall in the 30/60/90-day windows and the overdue tab."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from consortium_hub.agreements import selectors
from consortium_hub.agreements.services.renewals import renewal_decide
from consortium_hub.agreements.tests.conftest import lead_agreement, member_agreement, new_member
from consortium_hub.directory.models import Membership

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 2)


@pytest.fixture
def pipeline(cast):
    a = cast.consortium_a

    def ending(name: str, end: dt.date, **data):
        membership = new_member(a, name, tier=Membership.Tier.PREMIUM)
        return member_agreement(cast, membership, start=dt.date(end.year - 1, end.month % 12 + 1, 1)
                                if end.month != 12 else dt.date(end.year, 1, 1), end=end, **data)

    rows = {
        "june": ending("June College", dt.date(2026, 6, 30)),  # 28 days
        "july": ending("July College", dt.date(2026, 7, 31)),  # 59 days
        "august": ending("August College", dt.date(2026, 8, 31)),  # 90 days
        "september": ending("September College", dt.date(2026, 9, 30)),  # 120 days: in no window
        "may": ending("May College", dt.date(2026, 5, 31)),  # ended without a decision
        "draft": ending("Draft College", dt.date(2026, 6, 30), status="draft"),
        "lead": lead_agreement(cast, start=dt.date(2025, 7, 1), end=dt.date(2026, 6, 30)),
        "b": member_agreement(cast, cast.membership_b, start=dt.date(2025, 7, 1), end=dt.date(2026, 6, 30)),
    }
    rows["decided"] = ending("Decided College", dt.date(2026, 7, 31))
    renewal_decide(user=cast["lead_admin_a"], agreement=rows["decided"], decision="terminate")
    return rows


def _names(cast, who: str, window) -> list[str]:
    return [a.organisation.legal_name if a.organisation else f"lead:{a.consortium}"
            for a in selectors.renewal_pipeline(user=cast[who], window=window, today=TODAY)]


def test_windows_hold_the_active_agreements_ending_in_them_soonest_first(cast, pipeline):
    assert _names(cast, "lead_admin_a", 30) == ["June College", "lead:Consortium A"]
    assert _names(cast, "lead_admin_a", 60) == ["June College", "lead:Consortium A", "July College",
                                                "Decided College"]
    assert _names(cast, "lead_admin_a", 90) == ["June College", "lead:Consortium A", "July College",
                                                "Decided College", "August College"]
    assert _names(cast, "lead_admin_a", "overdue") == ["May College"]
    assert _names(cast, "lead_admin_a", "nonsense") == _names(cast, "lead_admin_a", 30)  # the default window
    assert _names(cast, "orcid_admin", 30) == ["June College", "lead:Consortium A", "Beta University"]


def test_counts_per_tab(cast, pipeline):
    counts = selectors.pipeline_counts(user=cast["lead_admin_a"], today=TODAY)
    assert {k: (c.total, c.undecided) for k, c in counts.items()} == {
        "30": (2, 2), "60": (4, 3), "90": (5, 4), "overdue": (1, 1)}


def test_other_consortia_and_members_see_only_theirs(cast, pipeline):
    assert _names(cast, "lead_admin_b", 90) == ["Beta University"]
    assert _names(cast, "member_contact_a", 90) == []  # Alpha University has no agreement ending soon
    assert _names(cast, "engagement_lead", 30) == ["June College", "lead:Consortium A"]


def test_the_page_shows_member_tier_end_notice_deadline_and_decision(cast, pipeline, client_for, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    client = client_for(cast["lead_admin_a"])
    page = client.get(reverse("agreements:renewal_pipeline") + "?window=60").content.decode()
    assert "July College" in page and "Premium" in page and "2026-07-31" in page
    assert "2026-05-02" in page  # July's notice deadline: 90 days before the end
    assert "Terminate at month end" in page and "Lead Admin A" in page  # Decided College's decision
    assert "September College" not in page and "Beta University" not in page
    assert "Next 60 days <small>(4, 3 undecided)</small>" in page
    # Filters keep the window; htmx gets the table only.
    partial = client.get(reverse("agreements:renewal_pipeline") + "?window=overdue&kind=member",
                         HTTP_HX_REQUEST="true").content.decode()
    assert "May College" in partial and "<h1>" not in partial
    decided_only = client.get(reverse("agreements:renewal_pipeline") + "?window=60&decided=true").content.decode()
    assert "Decided College" in decided_only and "July College" not in decided_only
