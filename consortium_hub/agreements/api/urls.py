from rest_framework.routers import SimpleRouter

from consortium_hub.agreements.api import views

router = SimpleRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("decisions", views.DecisionViewSet, basename="renewal-decision")

urlpatterns = router.urls
