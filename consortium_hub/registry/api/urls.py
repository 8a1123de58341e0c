from rest_framework.routers import SimpleRouter

from consortium_hub.registry.api import adoption, affiliations, calls, grants, settings, uploads

router = SimpleRouter()
for part in (affiliations, uploads, grants, calls, adoption, settings):
    part.register(router)

urlpatterns = router.urls
