"""Pages of communiqués (see views/communiques.py)."""

from consortium_hub.communiques.views.communiques import urlpatterns

__all__ = ["urlpatterns"]
