"""Agreement pages (see docs/architecture.md)."""

from consortium_hub.agreements.views import agreements, renewals

urlpatterns: list = [*agreements.urlpatterns, *renewals.urlpatterns]
