"""A consortium's ORCID member API credentials (lead admins): client id, secret and rate.

The secret is write-only: pages say whether one is set and never show it, and leaving the field empty
keeps the stored one. Without credentials the hub's own configured client is used.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from consortium_hub.core.access import get_for_user_or_404, require_area
from consortium_hub.core.roles import CHANGE, VIEW
from consortium_hub.core.viewkit import form_page
from consortium_hub.directory.models import Consortium
from consortium_hub.registry.forms import RegistryClientForm
from consortium_hub.registry.models import RegistryClient
from consortium_hub.registry.selectors import client_settings as selectors
from consortium_hub.registry.services.registry_clients import registry_client_save

AREA = "registry_settings"


@login_required
def settings_list(request: HttpRequest) -> HttpResponse:
    require_area(request.user, AREA, VIEW)
    consortia = selectors.consortia_with_clients(user=request.user)
    rows = [{"consortium": c, "client": getattr(c, "registry_client", None)} for c in consortia]
    return render(request, "registry/settings_list.html", {"rows": rows, "title": _("ORCID API credentials")})


@login_required
def settings_edit(request: HttpRequest, consortium_pk: int) -> HttpResponse:
    consortium = get_for_user_or_404(request.user, Consortium, CHANGE, area=AREA, pk=consortium_pk)
    client = RegistryClient.objects.filter(consortium=consortium).defer("client_secret").first()
    initial = {"client_id": client.client_id, "rate_per_second": client.rate_per_second} if client else {}
    form = RegistryClientForm(request.POST or None, initial=initial, secret_is_set=client is not None)
    return form_page(
        request, form=form, template="core/form.html",
        save=lambda data: registry_client_save(user=request.user, consortium=consortium, **data),
        success_url=reverse("registry:settings_list"), success_message=_("ORCID API credentials saved."),
        context={"title": _("ORCID API credentials of %(consortium)s") % {"consortium": consortium},
                 "consortium": consortium, "client": client, "cancel_url": reverse("registry:settings_list")})


urlpatterns = [
    path("settings/", settings_list, name="settings_list"),
    path("settings/<int:consortium_pk>/", settings_edit, name="settings_edit"),
]
