from __future__ import annotations

from typing import Any

from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.dispatch import receiver

from consortium_hub.accounts.services import link_orcid_id


@receiver(social_account_added)
@receiver(social_account_updated)
def remember_orcid_id(request: Any, sociallogin: Any, **kwargs: Any) -> None:
    """The ORCID iD from a verified ORCID sign-in is stored on the user, bare."""
    if sociallogin.account.provider == "orcid":
        link_orcid_id(user=sociallogin.user, orcid_id=sociallogin.account.uid)
