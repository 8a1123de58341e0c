from rest_framework.routers import DefaultRouter

from consortium_hub.directory.api import views

router = DefaultRouter()
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("changes", views.ChangeFeedViewSet, basename="change")
router.register("imports", views.ImportViewSet, basename="import")

urlpatterns = router.urls
