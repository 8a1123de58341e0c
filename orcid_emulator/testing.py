"""Helpers for driving the consent page without a browser.

Standard library only, so any test suite can use them.  Example::

    location = submit_consent(emulator.authorize_url(cid, redirect, state="s"), orcid=orcid)
    code = parse_qs(urlsplit(location).query)["code"][0]
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin


@dataclass
class ConsentForm:
    action: str  # absolute URL the form posts to
    hidden: dict[str, str] = field(default_factory=dict)
    orcid_options: list[str] = field(default_factory=list)
    selected_orcid: str | None = None
    buttons: dict[str, str] = field(default_factory=dict)  # element id -> value

    def submission(self, *, orcid: str | None = None, email: str | None = None, action: str = "authorize") -> dict[str, str]:
        """The fields a browser would post after the user's choice."""
        data = dict(self.hidden)
        chosen = orcid or self.selected_orcid or (self.orcid_options[0] if self.orcid_options else None)
        if chosen:
            data["orcid"] = chosen
        if email:
            data["email"] = email
        data["action"] = action
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.options: list[str] = []
        self.selected: str | None = None
        self.buttons: dict[str, str] = {}
        self._in_orcid_select = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form" and self.action is None:
            self.action = attr.get("action", "")
        elif tag == "input" and attr.get("type") == "hidden" and attr.get("name"):
            self.hidden[attr["name"]] = attr.get("value", "")
        elif tag == "select" and attr.get("name") == "orcid":
            self._in_orcid_select = True
        elif tag == "option" and self._in_orcid_select:
            self.options.append(attr.get("value", ""))
            if "selected" in attr:
                self.selected = attr.get("value", "")
        elif tag == "button" and attr.get("id"):
            self.buttons[attr["id"]] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._in_orcid_select = False


def parse_consent_form(markup: str, page_url: str) -> ConsentForm:
    parser = _FormParser()
    parser.feed(markup)
    if parser.action is None:
        raise ValueError("no form on the page")
    return ConsentForm(
        action=urljoin(page_url, parser.action),
        hidden=parser.hidden,
        orcid_options=parser.options,
        selected_orcid=parser.selected,
        buttons=parser.buttons,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def submit_consent(
    authorize_url: str,
    *,
    orcid: str | None = None,
    email: str | None = None,
    action: str = "authorize",
    timeout: float = 10,
) -> str:
    """Load the consent page, submit it, and return the redirect ``Location``.

    Raises ``RuntimeError`` if there is no consent page (an error redirect, or
    the 400 page for an unregistered redirect_uri) or the submission does not
    redirect.
    """
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(authorize_url, timeout=timeout) as page:
            form = parse_consent_form(page.read().decode(), page.geturl())
    except urllib.error.HTTPError as exc:
        # e.g. invalid_scope is redirected straight back without a consent page
        detail = exc.headers.get("Location") or exc.read()[:500]
        raise RuntimeError(f"no consent page, got {exc.code}: {detail!r}") from exc
    body = urlencode(form.submission(orcid=orcid, email=email, action=action)).encode()
    request = urllib.request.Request(form.action, data=body, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            raise RuntimeError(f"expected a redirect, got {response.status}: {response.read()[:500]!r}")
    except urllib.error.HTTPError as exc:
        if exc.code in (301, 302, 303, 307) and exc.headers.get("Location"):
            return str(exc.headers["Location"])
        raise RuntimeError(f"expected a redirect, got {exc.code}: {exc.read()[:500]!r}") from exc
