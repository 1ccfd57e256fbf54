from rest_framework.routers import DefaultRouter

from apps.repairs.api.views import RepairRequestViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("repairs", RepairRequestViewSet, basename="repair")

urlpatterns = router.urls
