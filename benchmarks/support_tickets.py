"""Benchmark support SLAs and the ticket list on 100,000 tickets, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/support_tickets.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/support_tickets.py

Each database runs in its own process (Django is set up once per process):
- SQLite: a fresh embedded database in a temporary directory (your data is never touched);
- PostgreSQL, when DATABASE_URL names a PostgreSQL server: a throwaway database `bench_support` on that
  server, created before and dropped after with psycopg (the database named in the URL is only used
  to connect).

Each run migrates, seeds 100,000 tickets with `bulk_create` (benchmark seeding: not audited; 2 consortia
on different calendars, realistic statuses, priorities, escalations and waiting-on-member pauses over
two years), then measures:
(a) SLA deadlines and achieved figures for all tickets: the pure computation (`compute_many`), a full
    `recalculate_all()` that stores every ticket (first run), and one that finds nothing changed;
(b) `GET /support/tickets/?status=open&ordering=resolution_due` (25 rows) as the lead admin of the
    larger consortium: 5 warm-up and BENCH_RUNS measured requests, median and 95th percentile, and the
    queries per request with 25 and with 100 rows (they must be equal).
Exits non-zero when (a)'s computation takes 2 s or more or (b)'s median is 50 ms or more.

Options (environment): BENCH_TICKETS (100000), BENCH_RUNS (30), BENCH_ONLY=sqlite|postgres,
BENCH_KEEP=1 (keep the SQLite directory / the PostgreSQL database).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends  # noqa: E402  (beside this script)

TICKETS = int(os.environ.get("BENCH_TICKETS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
WARM_UP = 5
SLA_TARGET_S = 2.0
LIST_TARGET_MS = 50.0
LIST_URL = "/support/tickets/?status=open&ordering=resolution_due"
PG_DATABASE = "bench_support"


# --- The parent: one child process per database --------------------------------------------------------

def main() -> int:
    if os.environ.get("BENCH_CHILD"):
        return child()
    only = os.environ.get("BENCH_ONLY", "")
    url = os.environ.get("DATABASE_URL", "")
    status = 0
    if only in ("", "sqlite"):
        status |= run_child("sqlite", {})
    if only in ("", "postgres"):
        if url.startswith(("postgres://", "postgresql://")):
            status |= run_postgres(url)
        elif only == "postgres":
            print("BENCH_ONLY=postgres needs DATABASE_URL=postgresql://...")
            return 2
    return status


def run_child(label: str, extra_env: dict[str, str]) -> int:
    return backends.run_child(__file__, label, extra_env)


def run_postgres(url: str) -> int:
    return backends.run_postgres(__file__, url, PG_DATABASE)


# --- The child: one database ---------------------------------------------------------------------------

def child() -> int:
    data_dir = tempfile.mkdtemp(prefix="ch-bench-support-")
    # Before Django reads its settings: everything else (secret key, job queue) in the temporary directory.
    os.environ["CH_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "consortium_hub.settings"
    for name in ("STATIC_ROOT", "MEDIA_ROOT"):
        os.environ.pop(name, None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    try:
        return measure_all(data_dir)
    finally:
        connection.close()
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"Kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure_all(data_dir: str) -> int:
    from django.core.management import call_command
    from django.db import connection

    vendor = connection.vendor
    print(f"Database: {vendor} {connection.Database.sqlite_version if vendor == 'sqlite' else pg_version()}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    lead, consortia = seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seed {TICKETS:,} tickets: {time.perf_counter() - started:.1f} s")
    (Path(data_dir) / "static").mkdir(exist_ok=True)

    sla = measure_sla(consortia)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the stored deadlines are new: statistics as a running site would have
    page = measure_list(lead)
    print()
    print("| Measurement | result |")
    print("|---|---:|")
    for label, value in [*sla, *page]:
        print(f"| {label} | {value} |")
    failures = []
    if sla_compute_seconds > SLA_TARGET_S:
        failures.append(f"SLA computation {sla_compute_seconds:.2f} s >= {SLA_TARGET_S} s")
    if list_median_ms >= LIST_TARGET_MS:
        failures.append(f"ticket list median {list_median_ms:.1f} ms >= {LIST_TARGET_MS} ms")
    if list_queries[0] != list_queries[1]:
        failures.append(f"ticket list queries differ with 25 and 100 rows: {list_queries}")
    print()
    print("FAILED: " + "; ".join(failures) if failures else "Targets met.")
    return 1 if failures else 0


def pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def seed():
    """2 consortia (London on GB/England holidays; Brisbane on AU/QLD holidays), 200 organisations,
    a lead admin, and TICKETS tickets over two years, with status changes for pauses."""
    import datetime as dt

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.utils import timezone

    from consortium_hub.accounts.models import RoleAssignment, User
    from consortium_hub.calendars import services as calendar_services
    from consortium_hub.calendars.selectors import calendar_for_consortium, orcid_calendar
    from consortium_hub.core.roles import Role
    from consortium_hub.core.testing import factories as f
    from consortium_hub.directory.models import Consortium
    from consortium_hub.support.models import Ticket, TicketStatusChange
    from consortium_hub.support.services.sla import ensure_default_sla_policies

    rnd = random.Random(2026)
    london = Consortium.objects.create(name="Bench UK consortium", country="GB", billing_currency="GBP",
                                       timezone="Europe/London")
    brisbane = Consortium.objects.create(name="Bench AU consortium", country="AU", billing_currency="AUD",
                                         timezone="Australia/Brisbane")
    calendar_services.calendar_update(user=None, calendar=calendar_for_consortium(london), holiday_subdivision="ENG")
    calendar_services.calendar_update(user=None, calendar=calendar_for_consortium(brisbane),
                                      holiday_subdivision="QLD")
    calendar_services.closure_add(user=None, calendar=calendar_for_consortium(london), date=dt.date(2025, 12, 24),
                                  end_date=dt.date(2026, 1, 1), reason="Christmas closure")
    orcid_calendar()
    for consortium in (london, brisbane, None):
        ensure_default_sla_policies(consortium)
    organisations = {c.pk: [f.OrganisationFactory(consortium=c, country=c.country) for _ in range(100)]
                     for c in (london, brisbane)}
    staff = User.objects.create_user("bench-support@scale.example", "bench-password-2026", name="Bench support")
    RoleAssignment.objects.create(user=staff, role=Role.LEAD_SUPPORT, consortium=london)
    lead = User.objects.create_user("bench-lead@scale.example", "bench-password-2026", name="Bench lead admin")
    RoleAssignment.objects.create(user=lead, role=Role.LEAD_ADMIN, consortium=london)
    TOTP.activate(lead, generate_totp_secret())

    now = timezone.now()
    span = dt.timedelta(days=730)
    statuses = (["resolved"] * 45 + ["closed"] * 25 + ["open"] * 14 + ["new"] * 5 + ["waiting_on_member"] * 6
                + ["with_orcid"] * 5)
    priorities = ["low"] * 20 + ["normal"] * 55 + ["high"] * 18 + ["urgent"] * 7
    tickets, pauses = [], []
    for i in range(TICKETS):
        consortium = london if rnd.random() < 0.6 else brisbane  # 60,000 / 40,000
        created = now - span * rnd.random() ** 1.3  # more recent tickets than old ones
        status = rnd.choice(statuses)
        if created > now - dt.timedelta(days=3) and status in ("resolved", "closed"):
            status = "open"
        ticket = Ticket(consortium=consortium, organisation=rnd.choice(organisations[consortium.pk]),
                        reference=f"BENCH-{i:06d}", subject=f"Question {i} about the member API",
                        category=rnd.choice(Ticket.Category.values), priority=rnd.choice(priorities),
                        status=status, requester_email=f"member{i % 5000}@example.org", created_at=created,
                        assignee=staff if consortium is london and rnd.random() < 0.7 else None)
        if status != "new":
            ticket.first_responded_at = created + dt.timedelta(hours=rnd.uniform(0.2, 60))
        if status in ("resolved", "closed"):
            ticket.resolved_at = created + dt.timedelta(hours=rnd.uniform(61, 400))
        if status == "with_orcid" or rnd.random() < 0.03:
            ticket.tier = 2
            ticket.escalated_at = created + dt.timedelta(hours=rnd.uniform(1, 48))
            ticket.orcid_status = "investigating"
        tickets.append(ticket)
        if status == "waiting_on_member" or rnd.random() < 0.15:
            paused = created + dt.timedelta(hours=rnd.uniform(1, 30))
            resumed = None if status == "waiting_on_member" else paused + dt.timedelta(hours=rnd.uniform(1, 72))
            pauses.append((i, paused, resumed))
    created_field = Ticket._meta.get_field("created_at")
    created_field.auto_now_add = False  # seeding only: keep the spread-out creation times
    try:
        Ticket.objects.bulk_create(tickets, batch_size=2000)
    finally:
        created_field.auto_now_add = True
    ids = dict(Ticket.objects.values_list("reference", "pk"))
    changes = []
    for i, paused, resumed in pauses:
        ticket_id = ids[f"BENCH-{i:06d}"]
        changes.append(TicketStatusChange(ticket_id=ticket_id, from_status="open", to_status="waiting_on_member",
                                          at=paused))
        if resumed is not None:
            changes.append(TicketStatusChange(ticket_id=ticket_id, from_status="waiting_on_member", to_status="open",
                                              at=resumed))
    TicketStatusChange.objects.bulk_create(changes, batch_size=2000)
    print(f"  {len(pauses):,} tickets with a waiting-on-member pause ({len(changes):,} status changes)")
    return lead, (london, brisbane)


sla_compute_seconds = 0.0
list_median_ms = 0.0
list_queries: tuple[int, int] = (0, 0)


def measure_sla(consortia) -> list[tuple[str, str]]:
    from django.db.models import Q
    from django.utils import timezone

    from consortium_hub.support.models import Ticket, TicketStatusChange
    from consortium_hub.support.services import sla

    global sla_compute_seconds
    now = timezone.now()
    # (1) The computation alone: rows and status changes loaded, calendars' specs read once.
    loaded = []
    started = time.perf_counter()
    for consortium in consortia:
        rows = list(Ticket.objects.filter(consortium=consortium).order_by().values_list(*sla._TICKET_COLUMNS))
        changes: dict[int, list] = {}
        for ticket_id, from_status, to_status, at in (
                TicketStatusChange.objects.filter(ticket__consortium=consortium)
                .filter(Q(to_status=sla.PAUSED) | Q(from_status=sla.PAUSED))
                .order_by("ticket_id", "at", "pk").values_list("ticket_id", "from_status", "to_status", "at")):
            changes.setdefault(ticket_id, []).append((from_status, to_status, at))
        loaded.append((consortium, rows, changes, sla.consortium_clock(consortium), sla.targets_us(consortium.pk)))
    load_s = time.perf_counter() - started
    orcid, orcid_targets = sla.orcid_clock(), sla.targets_us(None)
    sla._clocks.clear()  # cold clocks: their index is built inside the timed part
    clocks = [sla.clock_for(c.spec) for *_rest, c, _t in loaded]
    orcid = sla.clock_for(orcid.spec)
    started = time.perf_counter()
    computed = 0
    for (consortium, rows, changes, _clock, targets), clock in zip(loaded, clocks):
        computed += len(sla.compute_many(rows, clock=clock, targets=targets, changes=changes, now=now, orcid=orcid,
                                         orcid_targets=orcid_targets))
    sla_compute_seconds = time.perf_counter() - started
    total = sum(len(rows) for _c, rows, *_rest in loaded)
    # (2) recalculate_all(): load, compute and store every ticket; (3) again: nothing changed.
    sla._clocks.clear()
    started = time.perf_counter()
    stored = sla.recalculate_all(now=now)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = sla.recalculate_all(now=now)
    second_s = time.perf_counter() - started
    print(f"  SLA: computed {computed:,}/{total:,} in {sla_compute_seconds:.2f} s; recalculate_all stored "
          f"{stored:,} in {first_s:.2f} s, then {again:,} in {second_s:.2f} s")
    return [
        (f"(a) load {total:,} tickets + pause rows (values_list)", f"{load_s:.2f} s"),
        (f"(a) compute deadlines and figures of {total:,} tickets (`compute_many`, cold clocks)",
         f"{sla_compute_seconds:.2f} s"),
        (f"(a) `recalculate_all()` storing all {stored:,} (load + compute + `write_figures`)", f"{first_s:.2f} s"),
        (f"(a) `recalculate_all()` again ({again} changed: load + compute)", f"{second_s:.2f} s"),
    ]


def measure_list(lead) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    global list_median_ms, list_queries
    client = Client()
    client.force_login(lead, backend="django.contrib.auth.backends.ModelBackend")

    def get(url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return response

    for _ in range(WARM_UP):
        get(LIST_URL)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        get(LIST_URL)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    list_median_ms = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    # The same page with the status filter's DISTINCT switched off (django-filter's MultipleChoiceFilter
    # adds .distinct() by default; a status filter on the ticket table joins nothing, so it is not needed).
    from consortium_hub.support.selectors.tickets import TicketFilter

    status_filter = TicketFilter.base_filters["status"]
    distinct_before, status_filter.distinct = status_filter.distinct, False
    for _ in range(WARM_UP):
        get(LIST_URL)
    without = []
    for _ in range(RUNS):
        started = time.perf_counter()
        get(LIST_URL)
        without.append((time.perf_counter() - started) * 1000)
    status_filter.distinct = distinct_before
    without_median = statistics.median(without)
    counts = []
    for url in (LIST_URL, LIST_URL + "&per_page=100"):
        with CaptureQueriesContext(connection) as queries:
            response = get(url)
        counts.append(len(queries.captured_queries))
    list_queries = (counts[0], counts[1])
    rows = response.content.count(b"<tr") - 1
    print(f"  ticket list: median {list_median_ms:.1f} ms, p95 {p95:.1f} ms, queries {counts[0]} (25 rows) / "
          f"{counts[1]} ({rows} rows)")
    return [
        (f"(b) `GET {LIST_URL}` (25 rows) median / p95", f"{list_median_ms:.1f} / {p95:.1f} ms"),
        ("(b) queries per request, 25 rows / 100 rows", f"{counts[0]} / {counts[1]}"),
        (f"(b) same page with `TicketFilter.status` distinct=False (median, {'was ' + str(distinct_before)})",
         f"{without_median:.1f} ms"),
    ]


if __name__ == "__main__":
    sys.exit(main())
