from rest_framework.routers import DefaultRouter

from apps.front_desk.api.views import ParcelViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("parcels", ParcelViewSet, basename="parcel")

urlpatterns = router.urls
