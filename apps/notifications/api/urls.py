from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.notifications.api.views import NotificationViewSet, PreferencesView

router = SimpleRouter()
router.register("", NotificationViewSet, basename="notification")
# Before the router's detail routes, so "preferences" is never read as an id.
urlpatterns = [
    path("preferences/", PreferencesView.as_view(), name="notification-preferences"),
    *router.urls,
]
