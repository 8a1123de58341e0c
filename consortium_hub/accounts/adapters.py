from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from consortium_hub.accounts.models import User
from consortium_hub.directory.identifiers import normalise_orcid_id


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join by invitation only.
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Sign in with ORCID signs in the user whose account carries that ORCID iD.

    Linking happens when a signed-in user connects ORCID (allauth's connect flow) or when an
    invitation is accepted; ORCID never creates accounts on its own.
    """

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        orcid_id = normalise_orcid_id(sociallogin.account.uid)
        if sociallogin.is_existing:
            return
        if request.user.is_authenticated:
            return  # connecting: allauth attaches the account; the signal below records the iD
        user = User.objects.filter(orcid_id=orcid_id, is_active=True).first()
        if user is not None:
            sociallogin.connect(request, user)
        else:
            messages.error(request, _("No account is linked to ORCID iD %(id)s. Sign in with your email and "
                                      "password, then connect ORCID from your profile.") % {"id": orcid_id})
