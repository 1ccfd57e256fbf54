from rest_framework.routers import DefaultRouter

from apps.announcements.api.views import AnnouncementViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("announcements", AnnouncementViewSet, basename="announcement")

urlpatterns = router.urls
