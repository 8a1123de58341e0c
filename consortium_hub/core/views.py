from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from consortium_hub.core import dashboard
from consortium_hub.core.navigation import COMING_AREAS


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"panels": dashboard.panels_for(user=request.user)})


@login_required
def coming(request: HttpRequest, area: str) -> HttpResponse:
    if area not in COMING_AREAS:
        raise Http404
    return render(request, "core/coming.html", {"area": COMING_AREAS[area]})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
