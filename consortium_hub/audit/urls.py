from django.urls import path

from consortium_hub.audit import views

app_name = "audit"

urlpatterns = [path("", views.ChangeLog.as_view(), name="change_log")]
