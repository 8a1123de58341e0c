from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from consortium_hub.core import views as core_views
from consortium_hub.core.admin_site import restrict_admin_to_orcid_admins

restrict_admin_to_orcid_admins(admin.site)

api_v1 = [
    path("", include("consortium_hub.directory.api.urls")),
    path("onboarding/", include("consortium_hub.onboarding.api.urls")),
    path("", include("consortium_hub.calendars.api.urls")),
    path("agreements/", include("consortium_hub.agreements.api.urls")),
    path("billing/", include("consortium_hub.billing.api.urls")),
    path("support/", include("consortium_hub.support.api.urls")),
    path("communiques/", include("consortium_hub.communiques.api.urls")),
    path("registry/", include("consortium_hub.registry.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("", include("consortium_hub.core.urls")),
    path("", include("consortium_hub.accounts.urls")),
    path("directory/", include("consortium_hub.directory.urls")),
    path("onboarding/", include("consortium_hub.onboarding.urls")),
    path("calendars/", include("consortium_hub.calendars.urls")),
    path("agreements/", include("consortium_hub.agreements.urls")),
    path("billing/", include("consortium_hub.billing.urls")),
    path("support/", include("consortium_hub.support.urls")),
    path("communiques/", include("consortium_hub.communiques.urls")),
    # The registry link owns two prefixes: /registry/ (its pages) and /orcid/permission/ (researchers').
    path("", include("consortium_hub.registry.urls")),
    path("audit/", include("consortium_hub.audit.urls")),
    path("jobs/", include("consortium_hub.jobs.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
]
