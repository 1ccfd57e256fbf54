from rest_framework.routers import DefaultRouter

from apps.properties.api.views import MoveOutRequestViewSet, PropertyViewSet, UnitViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("properties", PropertyViewSet, basename="property")
router.register("units", UnitViewSet, basename="unit")
router.register("move-outs", MoveOutRequestViewSet, basename="move-out")

urlpatterns = router.urls
