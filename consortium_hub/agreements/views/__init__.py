"""Agreement pages."""

urlpatterns: list = []
