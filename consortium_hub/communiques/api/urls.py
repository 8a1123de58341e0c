from rest_framework.routers import SimpleRouter

from consortium_hub.communiques.api import views

router = SimpleRouter()
# Copies first: `copies/` must not be read as a communiqué id (ids are digits only anyway).
router.register("copies", views.CopyViewSet, basename="communique-copy")
router.register("", views.CommuniqueViewSet, basename="communique")

urlpatterns = router.urls
