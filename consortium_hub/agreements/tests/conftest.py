from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from consortium_hub.agreements.models import Agreement
from consortium_hub.agreements.services import agreements as services
from consortium_hub.core.testing import factories as f
from consortium_hub.directory.models import Membership

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def member_agreement(cast: Any, membership: Membership | None = None, *, start: dt.date = START,
                     end: dt.date = END, user: str = "orcid_admin", **data: Any) -> Agreement:
    return services.agreement_create(user=cast[user], kind=Agreement.Kind.MEMBER,
                                     membership=membership or cast.membership_a, start_date=start, end_date=end,
                                     **data)


def lead_agreement(cast: Any, consortium: Any = None, *, start: dt.date = dt.date(2025, 3, 15),
                   end: dt.date = dt.date(2026, 3, 14), **data: Any) -> Agreement:
    return services.agreement_create(user=cast["orcid_admin"], kind=Agreement.Kind.LEAD,
                                     consortium=consortium or cast.consortium_a, start_date=start, end_date=end,
                                     **data)


def new_member(consortium: Any, name: str, **membership: Any) -> Membership:
    organisation = f.OrganisationFactory(consortium=consortium, legal_name=name)
    return f.MembershipFactory(organisation=organisation, **membership)


@pytest.fixture
def agreement_a(cast) -> Agreement:
    return member_agreement(cast)
