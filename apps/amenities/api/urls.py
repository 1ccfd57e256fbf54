from rest_framework.routers import DefaultRouter

from apps.amenities.api.views import AmenityViewSet, ReservationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("amenities", AmenityViewSet, basename="amenity")
router.register("reservations", ReservationViewSet, basename="reservation")

urlpatterns = router.urls
