from rest_framework.routers import DefaultRouter

from apps.assets.api.views import AssetViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("assets", AssetViewSet, basename="asset")

urlpatterns = router.urls
