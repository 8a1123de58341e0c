"""The registry link's pages under /registry/, and the researcher's public permission pages under
/orcid/permission/ (the callback is the redirect URI registered with ORCID)."""

from django.urls import include, path

from consortium_hub.registry.views import (adoption, affiliations, calls, exports, grants, home, permission,
                                           settings, uploads)

app_name = "registry"

pages = [*home.urlpatterns, *affiliations.urlpatterns, *exports.urlpatterns, *uploads.urlpatterns, *grants.urlpatterns,
         *calls.urlpatterns, *settings.urlpatterns, *adoption.urlpatterns]

urlpatterns = [
    path("registry/", include(pages)),
    # Before the token pattern: "callback" would otherwise be taken for a token.
    path("orcid/permission/callback/", permission.permission_callback, name="permission_callback"),
    path("orcid/permission/<str:token>/", permission.permission_start, name="permission_start"),
]
