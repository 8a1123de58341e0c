"""Benchmark affiliation CSV validation: 100,000 rows in ORCID Affiliation Manager's columns.

    .venv/bin/python benchmarks/affiliation_csv.py

Generates a realistic file in memory (fixed seed): one member's affiliations, 70% to the member
itself and the rest spread over 2,000 other organisations (80% ROR IDs with valid checksums, bare or
as URLs; Ringgold, GRID and Crossref Funder IDs), dates at every precision, optional department, role, region, URL and
external ids, a few update and delete rows, and about 2% bad rows (wrong country, impossible date,
broken ROR checksum, bad email, end before start, duplicates). Then times `validation.validate_file`
(file bytes -> result: decoding, CSV parsing, every rule, content keys, duplicate detection) three
times and reports the median in rows per second. Exits non-zero below the target of 20,000 rows/s.

Validation is pure Python; no database is created. Options (environment): BENCH_ROWS (default
100000), BENCH_RUNS (default 3), BENCH_ORGANISATIONS (default 2000; more distinct organisations
means fewer cache hits in the identifier checks).
"""

from __future__ import annotations

import csv
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ORGANISATIONS = int(os.environ.get("BENCH_ORGANISATIONS", "2000"))
TARGET_ROWS_PER_SECOND = 20_000

# Settings are read (gettext, the upload size limit) but no database is touched.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consortium_hub.test_settings")

import django  # noqa: E402

django.setup()

from consortium_hub.directory import identifiers  # noqa: E402
from consortium_hub.registry import validation  # noqa: E402

SECTIONS = ["employment"] * 6 + ["education"] * 3 + ["qualification", "invited-position", "distinction",
                                                      "membership", "service"]
COUNTRIES = ["GB", "US", "AU", "DE", "FR", "NZ", "CA", "ZA", "JP", "BR", "IE", "NL"]
CITIES = ["London", "Cambridge", "Sydney", "Berlin", "Paris", "Auckland", "Toronto", "Cape Town", "Tokyo"]
DEPARTMENTS = ["", "", "Physics", "School of History", "Department of Chemistry", "Medical School", "Library"]
ROLES = ["", "Professor", "Lecturer", "Research Fellow", "PhD student", "Librarian", "Senior Research Associate"]
FIRST = ["ann", "bob", "chen", "dara", "eva", "femi", "gita", "hugo", "ines", "jon", "kai", "lea", "mo"]
LAST = ["lee", "smith", "ng", "garcia", "okafor", "muller", "tanaka", "silva", "kowalski", "obrien"]


def ror(rng: random.Random) -> str:
    number = rng.randrange(32 ** 6)
    body = ""
    for _ in range(6):
        body = identifiers.CROCKFORD[number % 32] + body
        number //= 32
    return f"0{body}{identifiers.ror_checksum(body):02d}"


def partial_date(rng: random.Random, year_from: int, year_to: int) -> str:
    year = rng.randint(year_from, year_to)
    precision = rng.random()
    if precision < 0.3:
        return str(year)
    month = rng.randint(1, 12)
    if precision < 0.6:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def organisations(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(source, identifier) of `count` organisations, written the ways members write them."""
    found = []
    for _ in range(count):
        pick = rng.random()
        if pick < 0.8:
            found.append(("ROR", rng.choice([ror(rng), f"https://ror.org/{ror(rng)}"])))
        elif pick < 0.9:
            found.append(("RINGGOLD", str(rng.randint(1000, 999999))))
        elif pick < 0.95:
            found.append(("GRID", f"grid.{rng.randint(1, 99999)}.{rng.choice('0123456789abcdef')}"))
        else:
            found.append(("FUNDREF", f"https://doi.org/10.13039/{rng.randint(100000000000, 999999999999)}"))
    return found


def good_row(rng: random.Random, n: int, orgs: list[tuple[str, str]]) -> dict[str, str]:
    # A member's file names its own organisation on most rows, and partner organisations on the rest.
    source, identifier = orgs[0] if rng.random() < 0.7 else rng.choice(orgs)
    start = partial_date(rng, 1990, 2024) if rng.random() < 0.9 else ""
    end = partial_date(rng, int(start[:4]) + 1, 2030) if start and rng.random() < 0.4 else ""
    external = rng.random() < 0.15
    return {
        "email": f"{rng.choice(FIRST)}.{rng.choice(LAST)}{n}@{rng.choice(['uni', 'inst', 'college'])}.example",
        "affiliation-section": rng.choice(SECTIONS),
        "department-name": rng.choice(DEPARTMENTS),
        "role-title": rng.choice(ROLES),
        "start-date": start,
        "end-date": end,
        "org-name": f"University of {rng.choice(CITIES)}",
        "org-country": rng.choice(COUNTRIES),
        "org-city": rng.choice(CITIES),
        "org-region": rng.choice(["", "", "England", "New South Wales"]),
        "disambiguated-organization-identifier": identifier,
        "disambiguation-source": source,
        "external-id": f"G-{n}" if external else "",
        "external-id-type": "grant_number" if external else "",
        "external-id-url": f"https://grants.example/{n}" if external and rng.random() < 0.5 else "",
        "url": f"https://people.example/{n}" if rng.random() < 0.2 else "",
        "id": str(rng.randint(1, 10 ** 6)) if rng.random() < 0.05 else "",
    }


def spoil(rng: random.Random, row: dict[str, str], previous: dict[str, str] | None) -> dict[str, str]:
    kind = rng.randrange(6)
    if kind == 0:
        row["org-country"] = "XX"
    elif kind == 1:
        row["start-date"] = "2023-02-30"
    elif kind == 2:
        row["disambiguation-source"], row["disambiguated-organization-identifier"] = "ROR", "05dxps056"
    elif kind == 3:
        row["email"] = "not an email"
    elif kind == 4:
        row["start-date"], row["end-date"] = "2020-05", "2019"
    elif previous is not None:
        return dict(previous)  # the same affiliation twice
    return row


def make_file(rows: int, seed: int = 6) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(validation.COLUMNS))
    writer.writeheader()
    orgs = organisations(rng, ORGANISATIONS)
    previous = None
    for n in range(rows):
        if rng.random() < 0.01:
            writer.writerow({"id": str(rng.randint(1, 10 ** 6))})  # a delete
            continue
        row = good_row(rng, n, orgs)
        if rng.random() < 0.02:
            row = spoil(rng, row, previous)
        writer.writerow(row)
        previous = row
    return out.getvalue().encode("utf-8")


def main() -> int:
    content = make_file(ROWS)
    print(f"File: {ROWS:,} rows, {len(content) / 1_000_000:.1f} MB")
    timings = []
    result = None
    for run in range(1, RUNS + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = validation.validate_file(content, "affiliations.csv", max_bytes=len(content))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        timings.append(elapsed)
        # CPU time too: on a busy machine the wall clock also counts other processes' turns.
        print(f"run {run}: {elapsed:.2f} s ({ROWS / elapsed:,.0f} rows/s); CPU {cpu:.2f} s")
    assert result is not None and result.readable, result.file_problems if result else None
    kinds = {kind: sum(1 for r in result.rows if r.kind == kind) for kind in (validation.CREATE, validation.UPDATE,
                                                                             validation.DELETE)}
    print(f"accepted {len(result.rows):,} ({', '.join(f'{k} {n:,}' for k, n in kinds.items())}); "
          f"rejected {len(result.rejected_rows):,} rows with {len(result.problems):,} problems")
    median = statistics.median(timings)
    rate = ROWS / median
    print(f"median {median:.2f} s: {rate:,.0f} rows/s (target >= {TARGET_ROWS_PER_SECOND:,})")
    return 0 if rate >= TARGET_ROWS_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
