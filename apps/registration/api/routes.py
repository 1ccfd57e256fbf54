from rest_framework.routers import DefaultRouter

from apps.registration.api.views import InvitationViewSet, ResidencyViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("residencies", ResidencyViewSet, basename="residency")

urlpatterns = router.urls
