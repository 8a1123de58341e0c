from django.urls import path

from consortium_hub.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<slug:area>/", views.coming, name="coming"),
]
