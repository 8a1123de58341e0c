from rest_framework.routers import SimpleRouter

from consortium_hub.billing.api import cycles, fees, invoices, reports

router = SimpleRouter()
for part in (fees, cycles, invoices, reports):
    part.register(router)

urlpatterns = router.urls
