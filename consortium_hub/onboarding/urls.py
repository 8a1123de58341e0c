from consortium_hub.onboarding.views import applications, plans, training

app_name = "onboarding"

urlpatterns = [*applications.urlpatterns, *plans.urlpatterns, *training.urlpatterns]
