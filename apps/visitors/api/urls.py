from rest_framework.routers import DefaultRouter

from apps.visitors.api.views import VisitorViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("visitors", VisitorViewSet, basename="visitor")

urlpatterns = router.urls
