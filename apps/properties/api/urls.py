from rest_framework.routers import DefaultRouter

from apps.properties.api.views import PropertyViewSet, UnitViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("properties", PropertyViewSet, basename="property")
router.register("units", UnitViewSet, basename="unit")

urlpatterns = router.urls
