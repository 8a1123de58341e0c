"""Benchmark the organisation list (page and API) on 10,000 organisations and 50,000 contacts.

    .venv/bin/python benchmarks/organisation_list.py      (or: make bench)

Builds a fresh embedded SQLite database in a temporary directory (your own data is never
touched), seeds it with `seed_scale`, and times requests through Django's test client as an
ORCID admin and as the lead admin of one consortium: 5 warm-up and 30 measured requests per URL,
reporting the median and 95th percentile in milliseconds and the queries each request runs.
Results and the machine they were measured on are recorded in docs/benchmarks.md.

Options (environment): BENCH_ORGANISATIONS, BENCH_CONTACTS, BENCH_RUNS, BENCH_KEEP=1 (keep the
temporary directory and print its path).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORGANISATIONS = int(os.environ.get("BENCH_ORGANISATIONS", "10000"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "50000"))
WARM_UP = 5
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
TARGET_MS = 100.0  # median of the organisation list's first page

DATA_DIR = tempfile.mkdtemp(prefix="ch-bench-")
# Must be set before Django reads its settings: a fresh embedded SQLite database in DATA_DIR.
os.environ["CH_DATA_DIR"] = DATA_DIR
os.environ["DJANGO_SETTINGS_MODULE"] = "consortium_hub.settings"
for name in ("DATABASE_URL", "REDIS_URL", "CH_PRODUCTION", "DEBUG", "STATIC_ROOT", "MEDIA_ROOT"):
    os.environ.pop(name, None)
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

URLS = [
    ("Organisation list, first page (25 rows)", "/directory/organisations/"),
    ("Organisation list, 100 rows", "/directory/organisations/?per_page=100"),
    ("Organisation search ?q=Univ", "/directory/organisations/?q=Univ"),
    ("API /api/v1/organisations/ (50 rows)", "/api/v1/organisations/"),
]


def main() -> int:
    try:
        return run()
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"\nKept {DATA_DIR}")
        else:
            connection.close()
            shutil.rmtree(DATA_DIR, ignore_errors=True)


def run() -> int:
    print(f"Database: fresh SQLite file in {DATA_DIR}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    call_command("seed_scale", organisations=ORGANISATIONS, contacts=CONTACTS, consortia=2, stdout=sys.stdout)
    print(f"seed_scale --organisations {ORGANISATIONS} --contacts {CONTACTS}: {time.perf_counter() - started:.1f} s")
    # Statistics for the query planner, as a running site would have after `manage.py migrate` + use.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    (Path(DATA_DIR) / "static").mkdir(exist_ok=True)  # whitenoise warns about a missing STATIC_ROOT
    users = make_users()
    rows = []
    for who, user in users.items():
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for label, url in URLS:
            rows.append((who, label, *measure(client, url)))

    print()
    header = f"| {'User':<12} | {'Request':<42} | {'median ms':>9} | {'p95 ms':>7} | {'queries':>7} |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for who, label, median, p95, queries in rows:
        print(f"| {who:<12} | {label:<42} | {median:>9.1f} | {p95:>7.1f} | {queries:>7} |")
    slow = [(who, median) for who, label, median, *_ in rows if label == URLS[0][0] and median >= TARGET_MS]
    print()
    if slow:
        print(f"SLOWER than the {TARGET_MS:.0f} ms target for the organisation list: {slow}")
        return 1
    print(f"Organisation list median under the {TARGET_MS:.0f} ms target.")
    return 0


def make_users() -> dict:
    from consortium_hub.accounts.models import RoleAssignment, User
    from consortium_hub.core.roles import Role
    from consortium_hub.directory.models import Consortium

    consortium = Consortium.objects.get(name="Scale consortium 1")
    admin = User.objects.create_user("bench-admin@orcid.example", "bench-password-2026", name="Bench admin",
                                     is_staff=True)
    RoleAssignment.objects.create(user=admin, role=Role.ORCID_ADMIN)
    lead = User.objects.create_user("bench-lead@scale.example", "bench-password-2026", name="Bench lead admin")
    RoleAssignment.objects.create(user=lead, role=Role.LEAD_ADMIN, consortium=consortium)
    # Both roles need a second factor; with TOTP set up the MFA middleware lets them through.
    for user in (admin, lead):
        TOTP.activate(user, generate_totp_secret())
    return {"ORCID admin": admin, "Lead admin": lead}


def measure(client: Client, url: str) -> tuple[float, float, int]:
    for _ in range(WARM_UP):
        check(client.get(url), url)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        check(response, url)
    with CaptureQueriesContext(connection) as queries:
        check(client.get(url), url)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(queries.captured_queries)


def check(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
