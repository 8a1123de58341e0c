"""Two commits of one billing cycle at the same moment issue one set of invoices with gapless numbers.

PostgreSQL only: SQLite serialises every writer anyway, and it is PostgreSQL's row locks (the cycle row,
select_for_update) and unique indexes that the commit relies on. Each thread has its own connection
(Django opens one per thread) and closes it when done.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connections

from consortium_hub.billing.models import BillingCycle, Invoice, InvoiceLine, Issuer
from consortium_hub.billing.selectors import cycles as selectors
from consortium_hub.billing.services import cycles as services
from consortium_hub.billing.services import fees as fee_services
from consortium_hub.billing.tests.test_fees import rates
from consortium_hub.core.testing import factories as f

# Row locks under concurrency need PostgreSQL: conftest.py leaves `postgres` tests out of SQLite runs,
# and CI's PostgreSQL run includes them.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

YEAR = 2026
MEMBERS = 12


def _members(consortium: Any, n: int) -> None:
    for i in range(n):
        org = f.OrganisationFactory(consortium=consortium, legal_name=f"{consortium.name} member {i:02d}")
        f.MembershipFactory(organisation=org, start_date=dt.date(2024, 1, 1))


def _run_together(calls: list) -> tuple[list, list]:
    """Run each call in its own thread, all released at once; return their results and errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a commit hung (deadlock?)"
    return results, errors


@pytest.fixture
def slow_commits(monkeypatch):
    """Hold each commit's transaction a moment after it read what is invoiced, so the two overlap for sure;
    and record the after-issue hand-over instead of sending email."""
    real = services.build_dry_run
    handed: list = []

    def slow(**kwargs):
        run = real(**kwargs)
        time.sleep(0.3)
        return run

    monkeypatch.setattr(services, "build_dry_run", slow)
    monkeypatch.setattr(services, "_after_issue", lambda ids: handed.append(list(ids)))
    return handed


def _schedule(consortium: Any, user: Any) -> None:
    fee_services.fee_schedule_create(user=user, consortium=consortium, year=YEAR, rates=rates())


@pytest.mark.parametrize("opened", [False, True], ids=["cycle-row-created-by-the-race", "cycle-already-open"])
def test_two_simultaneous_commits_issue_one_set(cast, slow_commits, opened):
    lead = cast["lead_admin_a"]
    _schedule(cast.consortium_a, lead)
    _members(cast.consortium_a, MEMBERS)
    if opened:
        services.cycle_open(user=lead, consortium=cast.consortium_a, year=YEAR)
    commit = lambda: services.cycle_commit(user=lead, consortium=cast.consortium_a, year=YEAR)  # noqa: E731
    started = time.perf_counter()
    results, errors = _run_together([commit, commit])
    assert errors == []
    assert time.perf_counter() - started >= 0.6, "the second commit must wait for the first"
    expected = MEMBERS + 2  # the cast's two members of A, and ours
    assert sorted(r.created for r in results) == [0, expected + 1]  # + ORCID's invoice
    members = Invoice.objects.filter(consortium=cast.consortium_a, issuer=Issuer.LEAD)
    assert members.count() == expected
    assert sorted(members.values_list("sequence", flat=True)) == list(range(1, expected + 1))
    assert members.values("recipient_organisation").distinct().count() == expected
    [orcid] = Invoice.objects.filter(issuer=Issuer.ORCID)
    assert orcid.sequence == 1 and orcid.lines.count() == expected
    assert InvoiceLine.objects.filter(invoice__issuer=Issuer.LEAD).count() == expected  # GBP: consortium fee only
    assert BillingCycle.objects.filter(consortium=cast.consortium_a, year=YEAR).count() == 1
    assert len(slow_commits) == 1 and len(slow_commits[0]) == expected + 1  # handed over once
    assert selectors.cycle_dry_run(user=lead, consortium=cast.consortium_a, year=YEAR).is_empty


def test_two_consortia_committing_at_once_share_orcids_numbers_without_gaps(cast, slow_commits):
    a, b = cast["lead_admin_a"], cast["lead_admin_b"]
    _schedule(cast.consortium_a, a)
    _schedule(cast.consortium_b, b)
    results, errors = _run_together([
        lambda: services.cycle_commit(user=a, consortium=cast.consortium_a, year=YEAR),
        lambda: services.cycle_commit(user=b, consortium=cast.consortium_b, year=YEAR)])
    assert errors == []
    assert sorted(Invoice.objects.filter(issuer=Issuer.ORCID).values_list("sequence", flat=True)) == [1, 2]
    for consortium in (cast.consortium_a, cast.consortium_b):
        sequences = sorted(Invoice.objects.filter(issuer=Issuer.LEAD, consortium=consortium)
                           .values_list("sequence", flat=True))
        assert sequences == list(range(1, len(sequences) + 1)) and sequences
