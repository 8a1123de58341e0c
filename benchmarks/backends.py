"""Running a benchmark once per database: each in a child process with a clean environment.

The parent calls `run_on_databases(script, pg_database)`; the child (BENCH_CHILD set) measures one
database. PostgreSQL gets a throwaway database, created before and dropped after (BENCH_KEEP=1 keeps it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def run_child(script: str, label: str, extra_env: dict[str, str]) -> int:
    # The child must never inherit the developer's database, queue or production switch.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CH_PRODUCTION", "DEBUG")}
    env.update({"BENCH_CHILD": label, **extra_env})
    print(f"\n=== {label} ===", flush=True)
    return subprocess.call([sys.executable, script], env=env)


def run_postgres(script: str, url: str, database: str) -> int:
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts)
    bench_url = urlunsplit(parts._replace(path=f"/{database}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.execute(f"CREATE DATABASE {database}")
    try:
        return run_child(script, "postgres", {"DATABASE_URL": bench_url})
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"Kept PostgreSQL database {database}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
