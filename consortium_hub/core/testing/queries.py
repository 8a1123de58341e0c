"""Query-count checks for list pages and API lists: the number of queries must not grow with the rows shown.

Usage (inside a test with database access):

    assert_constant_queries(make_rows=lambda n: make_organisations(n), fetch=lambda: client.get(url),
                            shown=html_rows)

`make_rows(n)` adds n more rows of whatever the page lists; `fetch()` requests the page and returns
the response. The page is fetched once with a few rows (after one warm-up request, so per-process
caches such as ContentType's are filled), then again after many more rows were added; both counts
must be equal. `shown(response)` (optional) counts the rows the response shows, to prove the second
request really showed more of them — a check that passes because the page is empty proves nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.test.utils import CaptureQueriesContext

_ROW_RE = re.compile(rb"<(?:tr|li)[\s>]")


def html_rows(response: Any) -> int:
    """Table rows (`<tr>`) and list items (`<li>`) in an HTML response."""
    return len(_ROW_RE.findall(response.content))


def api_rows(response: Any) -> int:
    """Items of a paginated (`results`) or plain list API response."""
    data = json.loads(response.content)
    return len(data["results"] if isinstance(data, dict) else data)


def count_queries(fetch: Callable[[], Any], *, using: str = "default") -> tuple[Any, list[str]]:
    """Run `fetch()` and return its result and the SQL it executed."""
    with CaptureQueriesContext(connections[using]) as ctx:
        result = fetch()
    return result, [q["sql"] for q in ctx.captured_queries]


def assert_constant_queries(make_rows: Callable[[int], Any], fetch: Callable[[], Any], *,
                            shown: Callable[[Any], int] | None = None, few: int = 5, many: int = 500,
                            status: int = 200, using: str = "default") -> int:
    """Assert `fetch()` runs as many queries with `many` rows as with `few`; return the count."""
    make_rows(few)
    warm = fetch()
    _check_status(warm, status)
    small, small_sql = count_queries(fetch, using=using)
    _check_status(small, status)
    make_rows(many - few)
    large, large_sql = count_queries(fetch, using=using)
    _check_status(large, status)
    if shown is not None:
        before, after = shown(small), shown(large)
        assert after > before, (f"the page showed {before} rows with {few} and {after} with {many}: "
                                "it must show more rows for the query count to mean anything")
    assert len(large_sql) == len(small_sql), (
        f"{len(small_sql)} queries with {few} rows but {len(large_sql)} with {many} (an N+1?).\n"
        + _diff(small_sql, large_sql))
    return len(small_sql)


def _check_status(response: Any, status: int) -> None:
    code = getattr(response, "status_code", None)
    if code is not None:
        assert code == status, f"expected HTTP {status}, got {code}"


def _diff(small: list[str], large: list[str]) -> str:
    """The statements that ran more often the second time, most repeated first."""
    counts: dict[str, int] = {}
    for sql in large:
        counts[sql] = counts.get(sql, 0) + 1
    for sql in small:
        counts[sql] = counts.get(sql, 0) - 1
    # Statements differ by the ids they name, so also group by shape (numbers and strings replaced).
    shapes: dict[str, int] = {}
    for sql, n in counts.items():
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", sql)
        shapes[shape] = shapes.get(shape, 0) + n
    repeated = sorted(((n, s) for s, n in shapes.items() if n), reverse=True)[:10]
    return "\n".join(f"  {n:+d} x {s[:400]}" for n, s in repeated)
