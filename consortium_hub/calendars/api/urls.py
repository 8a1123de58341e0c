# A SimpleRouter: the project's API root view comes from the directory's DefaultRouter.
from rest_framework.routers import SimpleRouter

from consortium_hub.calendars.api import views

router = SimpleRouter()
router.register("calendars", views.CalendarViewSet, basename="calendar")
router.register("calendar-closures", views.ClosureViewSet, basename="calendar-closure")

urlpatterns = router.urls
