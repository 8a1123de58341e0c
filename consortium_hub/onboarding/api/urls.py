from rest_framework.routers import DefaultRouter

from consortium_hub.onboarding.api import applications, plans, training

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
for part in (applications, plans, training):
    part.register(router)

urlpatterns = router.urls
