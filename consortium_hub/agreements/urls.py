from consortium_hub.agreements import views

app_name = "agreements"

urlpatterns = views.urlpatterns
