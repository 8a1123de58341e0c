from django.urls import path

from consortium_hub.calendars import views

app_name = "calendars"

urlpatterns = [
    path("", views.CalendarList.as_view(), name="calendar_list"),
    path("<int:pk>/", views.calendar_detail, name="calendar_detail"),
    path("<int:pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("<int:pk>/history/", views.CalendarHistory.as_view(), name="calendar_history"),
    path("<int:pk>/closures/new/", views.closure_add, name="closure_add"),
    path("closures/<int:pk>/remove/", views.closure_remove, name="closure_remove"),
    path("consortium/<int:pk>/", views.consortium_calendar, name="consortium_calendar"),
]
