"""Public pages a researcher reaches from a permission email (no sign-in: the link is the credential).

`permission_start` shows who asks and what, lets the researcher pick a language and sends them to
ORCID; `permission_callback` is where ORCID sends them back. Both pages are private (never cached,
never indexed, the link never leaked as a referrer).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from consortium_hub.registry.client import OrcidApiError
from consortium_hub.registry.models import PermissionLink
from consortium_hub.registry.services import permissions as services


def _private(response: HttpResponse) -> HttpResponse:
    # "same-origin", not "no-referrer": the link (the credential) never reaches ORCID or anyone else,
    # while the page's own form still carries an Origin header, which CSRF protection requires
    # (browsers send "Origin: null" under "no-referrer").
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(request: HttpRequest, template: str, context: dict[str, Any], language: str, status: int = 200
          ) -> HttpResponse:
    # The researcher's language, not the browser's: the page must match the email and ORCID's page.
    with translation.override(services.django_language(language)):
        return _private(render(request, template, {**context, "language": language}, status=status))


def _link_problem(request: HttpRequest, problem: services.PermissionLinkError, language: str) -> HttpResponse:
    reason = {
        services.UnknownLink: "unknown", services.ExpiredLink: "expired", services.UsedLink: "used",
        services.InvalidState: "state",
    }.get(type(problem), "unknown")
    return _page(request, "registry/permission/invalid.html", {"reason": reason}, language,
                 status=problem.status_code)


def _chosen_language(value: str | None, default: str) -> str:
    return value if value in PermissionLink.Language.values else default


@never_cache
@require_http_methods(["GET", "POST"])
def permission_start(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.resolve_link(token)
    except services.PermissionLinkError as problem:
        return _link_problem(request, problem, _chosen_language(request.GET.get("language"), "en"))
    source = request.POST if request.method == "POST" else request.GET
    language = _chosen_language(source.get("language"), link.language)
    if request.method == "POST":
        return redirect(services.authorize_url(link=link, redirect_uri=services.callback_url(), language=language))
    return _page(request, "registry/permission/start.html", {
        "link": link, "organisation_name": link.organisation.display_name,
        "affiliations": services.waiting_affiliations(link), "languages": PermissionLink.Language.choices,
    }, language)


@never_cache
@require_GET
def permission_callback(request: HttpRequest) -> HttpResponse:
    try:
        link_id, language = services.read_state(request.GET.get("state", ""))
    except services.InvalidState as problem:
        return _link_problem(request, problem, "en")
    link = PermissionLink.objects.select_related("organisation").filter(pk=link_id).first()
    if link is None:
        return _link_problem(request, services.UnknownLink(), language)
    context: dict[str, Any] = {"link": link, "organisation_name": link.organisation.display_name}
    error = request.GET.get("error")
    try:
        if error == "access_denied":
            services.deny_grant(link=link)
            return _page(request, "registry/permission/declined.html", context, language)
        code = request.GET.get("code")
        if error or not code:
            return _page(request, "registry/permission/orcid_error.html",
                         {**context, "detail": request.GET.get("error_description") or error or "",
                          "retry_url": services.link_url(link) if link.used_at is None else ""},
                         language, status=400)
        grant = services.complete_grant(link=link, code=code, redirect_uri=services.callback_url())
    except services.PermissionLinkError as problem:
        return _link_problem(request, problem, language)
    except OrcidApiError:
        # Nothing was written and the link still works: the researcher can simply try again.
        return _page(request, "registry/permission/orcid_error.html",
                     {**context, "retry_url": services.link_url(link)}, language, status=502)
    return _page(request, "registry/permission/granted.html", {**context, "orcid_id": grant.orcid_id}, language)
