from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from consortium_hub.accounts.services import mfa_required

# Pages a user without a second factor can still reach: setting one up, and signing out.
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/invitations/", "/healthz")


class RequireMFAMiddleware:
    """ORCID staff and lead admins must have TOTP set up before they use the hub."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(_EXEMPT_PREFIXES)
                and not request.path.startswith("/api/") and mfa_required(user) and not _has_totp(user)):
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)


def _has_totp(user) -> bool:
    cached = getattr(user, "_has_totp", None)
    if cached is None:
        from allauth.mfa.models import Authenticator

        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._has_totp = cached
    return cached
