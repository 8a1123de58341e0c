"""Benchmark the affiliation writer against the bundled ORCID emulator with ORCID's rate limits on.

    .venv/bin/python benchmarks/orcid_writes.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/orcid_writes.py

Always measures on a fresh embedded SQLite database in a temporary directory (`CH_DATA_DIR` is set before
`django.setup()`; your own data is never touched). When DATABASE_URL names a PostgreSQL server it measures
there too, in a throwaway database `bench_orcid_writes` (created, then dropped, with psycopg). Each backend
runs in its own process. Jobs run inline (HUEY_IMMEDIATE), as in the test suite.

Per backend: `migrate`; an `EmulatorServer` on a free port throttling like ORCID (24 requests/s per member
client, burst 40, 503 + Retry-After when over); the hub's settings pointed at it. Seeding (benchmark
seeding: not audited) creates N researchers in the emulator, each with a real token and a granted
`OrcidGrant`, and one pending employment row each. Then:

(a) the writer at the hub's default rate (`ORCID_RATE_PER_SECOND`, 24/s), `run_writer` with its default
    50 s budget, re-run as its job would until nothing is due. Measured: rows written per second, and
    from the emulator's own log the most calls that arrived in any 1-second window (must be <= the rate)
    and the calls it refused (should be 0: the writer never needs ORCID to slow it down);
(b) the writer's own ceiling: N more rows with the emulator's limits off and the rate set to 1000/s, to
    show how much of each 1/24 s the hub itself uses (database writes, audit, call log).

Checks: every row in ORCID exactly once; (a)'s busiest second <= the rate; no refused calls. The script
exits non-zero when one fails. Options (environment): BENCH_ROWS (default 600), BENCH_KEEP=1.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402  (beside this script)

ROWS = int(os.environ.get("BENCH_ROWS", "600"))
PG_DATABASE = "bench_orcid_writes"
CLIENT_ID = "APP-BENCHHUBCLIENT1"
CLIENT_SECRET = "bench-secret"
SCOPES = ["/read-limited", "/activities/update"]


# --- The parent: one child process per database --------------------------------------------------------

def main() -> int:
    if os.environ.get("BENCH_CHILD"):
        return child()
    url = os.environ.get("DATABASE_URL", "")
    status = run_child("sqlite", {})
    if url.startswith(("postgres://", "postgresql://")):
        status |= run_postgres(url)
    return status


def run_child(label: str, extra_env: dict[str, str]) -> int:
    return backends.run_child(__file__, label, extra_env)


def run_postgres(url: str) -> int:
    return backends.run_postgres(__file__, url, PG_DATABASE)


# --- The child: one database ---------------------------------------------------------------------------

def child() -> int:
    data_dir = tempfile.mkdtemp(prefix="ch-bench-orcid-")
    os.environ["CH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "consortium_hub.settings"
    os.environ["HUEY_IMMEDIATE"] = "true"
    for name in ("STATIC_ROOT", "MEDIA_ROOT", "ORCID_RATE_PER_SECOND"):
        os.environ.pop(name, None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    try:
        return measure(data_dir)
    finally:
        connection.close()
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"Kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure(data_dir: str) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from orcid_emulator import Client, EmulatorServer, RateLimitConfig

    vendor = connection.vendor
    print(f"Database: {vendor}")
    call_command("migrate", verbosity=0, interactive=False)
    rate = settings.ORCID_RATE_PER_SECOND
    limits = RateLimitConfig(member_rate=24, member_burst=40)
    with EmulatorServer(clients=[Client(CLIENT_ID, CLIENT_SECRET, ["http://127.0.0.1:8000/"])], records=[],
                        rate_limit=limits) as orcid:
        settings.ORCID_BASE_URL = settings.ORCID_API_BASE_URL = orcid.base_url
        settings.ORCID_PUBLIC_API_BASE_URL = orcid.base_url
        settings.ORCID_MEMBER_CLIENT_ID, settings.ORCID_MEMBER_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET

        throttled = run_phase(orcid, "throttled", rate=rate)
        orcid.state.set_rate_limit(None)
        ceiling = run_phase(orcid, "ceiling", rate=1000)

    failures = []
    for phase in (throttled, ceiling):
        if phase["items"] != ROWS or phase["written"] != ROWS:
            failures.append(f"{phase['name']}: {phase['written']} rows in_orcid, {phase['items']} items in ORCID "
                            f"(expected {ROWS} of each)")
    if throttled["max_window"] > rate:
        failures.append(f"busiest second had {throttled['max_window']} calls > {rate}/s")
    if throttled["refused"]:
        failures.append(f"ORCID refused {throttled['refused']} calls")

    print()
    print(f"| Measurement ({vendor}, {ROWS} rows) | result |")
    print("|---|---:|")
    print(f"| (a) writer at {rate}/s against ORCID's limits (24/s, burst 40): rows written / elapsed | "
          f"{throttled['written']} in {throttled['elapsed']:.1f} s = **{throttled['per_second']:.1f} writes/s** |")
    print(f"| (a) most calls ORCID received in any 1-second window (limit {rate}) | {throttled['max_window']} |")
    print(f"| (a) calls ORCID refused (503 + Retry-After) | {throttled['refused']} |")
    print(f"| (a) writer runs (each within its 50 s budget) | {throttled['runs']} |")
    print(f"| (a) calls in the hub's log (`OrcidApiCall`) / in ORCID's | "
          f"{throttled['logged']} / {throttled['calls']} |")
    print(f"| (b) writer's own ceiling (limits off, rate 1000/s) | {ceiling['per_second']:.0f} writes/s "
          f"({1000 / ceiling['per_second']:.1f} ms per row) |")
    print(f"| (b) share of each 1/{rate} s slot the hub itself uses at {rate}/s | "
          f"{rate / ceiling['per_second'] * 100:.0f}% |")
    print()
    print("FAILED: " + "; ".join(failures) if failures else "Targets met.")
    return 1 if failures else 0


def run_phase(orcid, name: str, *, rate: int) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from consortium_hub.registry import client as client_module
    from consortium_hub.registry.models import Affiliation, OrcidApiCall
    from consortium_hub.registry.services import sync

    settings.ORCID_RATE_PER_SECOND = rate
    client_module._limiters.clear()
    organisation, grants = seed(orcid, name)
    orcid.state.clear_calls()
    logged_before = OrcidApiCall.objects.count()

    # A run out of budget enqueues its successor, which runs inline here; count them all.
    runs = []
    run_writer = sync.run_writer

    def counted(**options):
        runs.append(options)
        return run_writer(**options)

    sync.run_writer = counted
    started = time.perf_counter()
    try:
        while sync.due_rows(now=timezone.now()).filter(organisation=organisation).exists():
            sync.run_writer(organisation_id=organisation.pk)
    finally:
        sync.run_writer = run_writer
    elapsed = time.perf_counter() - started

    written = Affiliation.objects.filter(organisation=organisation, status=Affiliation.Status.IN_ORCID).count()
    items = sum(len(orcid.state.affiliations(grant.orcid_id)) for grant in grants)
    accepted = orcid.state.calls(CLIENT_ID)
    everything = orcid.state.calls(CLIENT_ID, include_rejected=True)
    phase = {
        "name": name, "written": written, "items": items, "elapsed": elapsed, "per_second": written / elapsed,
        "max_window": orcid.state.max_calls_in_window(1.0, CLIENT_ID), "refused": len(everything) - len(accepted),
        "calls": len(everything), "logged": OrcidApiCall.objects.count() - logged_before, "runs": len(runs),
    }
    print(f"  {name}: {written} rows in {elapsed:.1f} s ({phase['per_second']:.1f}/s), busiest second "
          f"{phase['max_window']} calls, {phase['refused']} refused", flush=True)
    return phase


def seed(orcid, name: str):
    """N researchers in the emulator with real tokens; their grants and one pending row each (bulk_create:
    benchmark seeding, not audited)."""
    from django.utils import timezone

    from consortium_hub.directory.models import Consortium, Organisation
    from consortium_hub.registry.models import Affiliation, OrcidGrant

    consortium = Consortium.objects.create(name=f"Bench consortium {name}", country="GB", billing_currency="GBP",
                                           timezone="Europe/London")
    organisation = Organisation.objects.create(consortium=consortium, legal_name=f"Bench University {name}",
                                               country="GB", city="Leeds")
    now = timezone.now()
    grants, rows = [], []
    for i in range(ROWS):
        email = f"{name}-researcher{i}@bench.example"
        record = orcid.state.add_record(f"Researcher{i}", name.title(), email)
        token = orcid.state.issue_token(CLIENT_ID, record.orcid, SCOPES)
        grants.append(OrcidGrant(organisation=organisation, email=email, orcid_id=record.orcid,
                                 status=OrcidGrant.Status.GRANTED, access_token=token.access_token,
                                 refresh_token=token.refresh_token, scope=" ".join(SCOPES), client_id=CLIENT_ID,
                                 granted_at=now))
        rows.append(Affiliation(organisation=organisation, email=email, section="employment",
                                department_name="Chemistry", role_title=f"Researcher {i}", start_date="2021-09",
                                org_name=organisation.legal_name, org_country="GB", org_city="Leeds",
                                disambiguated_organization_identifier="024mrxd33", disambiguation_source="ROR",
                                content_key=f"{name}-{i}", status=Affiliation.Status.PENDING))
    OrcidGrant.objects.bulk_create(grants, batch_size=500)
    Affiliation.objects.bulk_create(rows, batch_size=500)
    return organisation, grants


if __name__ == "__main__":
    sys.exit(main())
