from consortium_hub.support.views import answers, escalation, problems, sla, tickets

app_name = "support"

urlpatterns = [*tickets.urlpatterns, *sla.urlpatterns, *escalation.urlpatterns, *problems.urlpatterns,
               *answers.urlpatterns]
