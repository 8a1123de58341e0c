from consortium_hub.communiques import views

app_name = "communiques"

urlpatterns = views.urlpatterns
