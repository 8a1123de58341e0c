from rest_framework.routers import SimpleRouter

from consortium_hub.support.api import answers, escalation, problems, sla, tickets

router = SimpleRouter()
for part in (tickets, sla, escalation, problems, answers):
    part.register(router)

urlpatterns = router.urls
