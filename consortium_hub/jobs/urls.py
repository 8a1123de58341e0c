from django.urls import path

from consortium_hub.jobs import views

app_name = "jobs"

urlpatterns = [path("", views.JobRunList.as_view(), name="run_list")]
