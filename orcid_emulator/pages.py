"""HTML pages.  Hand-written markup with ``html.escape`` on every interpolation,
because all values (client names, state, redirect URIs) are attacker-shaped in
real life and the page is also driven by real browsers in end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from .scopes import DESCRIPTIONS
from .state import Client, Record

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header { border-bottom: 3px solid #a6ce39; margin-bottom: 1.5rem; }
.error { background: #fdecea; border: 1px solid #d93025; padding: .75rem; }
.field { margin: 1rem 0; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
select, input[type=email] { width: 100%; padding: .4rem; box-sizing: border-box; }
button { padding: .5rem 1.25rem; margin-right: .5rem; }
#authorize { background: #a6ce39; border: 0; color: #fff; font-weight: 600; }
code { background: #f3f3f3; padding: 0 .2rem; }
"""


# ORCID's lang values look like "en", "fr", "zh_CN"; HTML wants "zh-CN".
_LANG = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*")


def _layout(title: str, body: str, lang: str = "en") -> str:
    html_lang = lang.replace("_", "-") if _LANG.fullmatch(lang) else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - ORCID emulator</title><style>{_STYLE}</style></head>"
        f'<body><header><p>ORCID emulator</p></header><main><h1>{escape(title)}</h1>{body}</main></body></html>\n'
    )


def error_page(title: str, message: str) -> str:
    return _layout(title, f'<p class="error" role="alert">{escape(message)}</p>')


def consent_page(
    *,
    action_url: str,
    client: Client,
    scopes: Sequence[str],
    hidden: Mapping[str, str],
    records: Iterable[Record],
    selected_orcid: str | None = None,
    email: str = "",
    error: str | None = None,
    lang: str = "",
) -> str:
    parts: list[str] = []
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    parts.append(f"<p><strong>{escape(client.name)}</strong> has asked for the following access to your ORCID record:</p>")
    parts.append('<ul id="scopes">')
    for scope in scopes:
        parts.append(
            f'<li data-scope="{escape(scope)}"><code>{escape(scope)}</code> {escape(DESCRIPTIONS.get(scope, ""))}</li>'
        )
    parts.append("</ul>")
    parts.append(f'<form method="post" action="{escape(action_url)}" id="consent-form">')
    for name, value in hidden.items():
        parts.append(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">')
    options = []
    for record in records:
        selected = " selected" if record.orcid == selected_orcid else ""
        label = f"{record.name} ({record.orcid})"
        options.append(f'<option value="{escape(record.orcid)}"{selected}>{escape(label)}</option>')
    if options:
        parts.append(
            '<div class="field"><label for="orcid">Sign in as</label>'
            f'<select id="orcid" name="orcid">{"".join(options)}</select></div>'
        )
    else:
        parts.append('<p id="no-records">This emulator has no records yet; sign in by email after creating one.</p>')
    parts.append(
        '<div class="field"><label for="email">Or sign in by email (overrides the choice above)</label>'
        f'<input type="email" id="email" name="email" value="{escape(email)}" autocomplete="off"></div>'
    )
    parts.append(
        '<div class="field">'
        '<button type="submit" id="authorize" name="action" value="authorize">Authorize access</button>'
        '<button type="submit" id="deny" name="action" value="deny">Deny access</button>'
        "</div></form>"
    )
    return _layout("Authorize access", "".join(parts), lang or "en")


def index_page(base_url: str, records: Iterable[Record], clients: Iterable[Client]) -> str:
    endpoint_rows = "".join(
        f"<li><code>{escape(base_url + path)}</code></li>"
        for path in (
            "/.well-known/openid-configuration",
            "/oauth/authorize",
            "/oauth/token",
            "/oauth/userinfo",
            "/oauth/jwks",
            "/oauth/revoke",
            "/v3.0/{orcid}/{section}[/{put-code}]",
            "/v3.0/{orcid}/{section}s",
            "/v3.0/expanded-search/?q=ror-org-id:...",
            "/_emulator/records",
            "/_emulator/calls",
            "/_emulator/faults",
            "/_emulator/rate-limit",
        )
    )
    record_rows = "".join(
        f'<li><a href="{escape(base_url)}/{escape(r.orcid)}">{escape(r.orcid)}</a> {escape(r.name)}'
        f"{' &lt;' + escape(r.email) + '&gt;' if r.email else ''}</li>"
        for r in records
    )
    client_rows = "".join(
        f"<li><code>{escape(c.client_id)}</code> {escape(c.name)}: "
        f"{', '.join(f'<code>{escape(u)}</code>' for u in c.redirect_uris) or 'no redirect URIs'}</li>"
        for c in clients
    )
    body = (
        f"<h2>Endpoints</h2><ul>{endpoint_rows}</ul>"
        f"<h2>Records</h2><ul>{record_rows or '<li>none</li>'}</ul>"
        f"<h2>Clients</h2><ul>{client_rows or '<li>none</li>'}</ul>"
    )
    return _layout("ORCID emulator", body)


def record_page(base_url: str, record: Record) -> str:
    body = (
        f'<dl><dt>ORCID iD</dt><dd id="orcid-id">{escape(base_url)}/{escape(record.orcid)}</dd>'
        f"<dt>Name</dt><dd>{escape(record.name)}</dd></dl>"
    )
    return _layout(record.name, body)
