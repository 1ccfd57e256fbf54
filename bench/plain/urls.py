from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from apps.accounts.authentication import ApiTokenAuthentication
from bench.plain.models import PlainItem


class PlainItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlainItem
        fields = [
            "id",
            "property",
            "unit",
            "resident",
            "category",
            "description",
            "urgency",
            "preferred_time",
            "preferred_window",
            "status",
            "version",
            "created_at",
            "updated_at",
            "resolved_at",
        ]
        read_only_fields = [
            "id",
            "resident",
            "status",
            "version",
            "created_at",
            "updated_at",
            "resolved_at",
        ]


class PlainItemViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """DRF's own create: token auth, a model serializer, one INSERT."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = PlainItemSerializer
    queryset = PlainItem.objects.all()

    def perform_create(self, serializer):
        serializer.save(resident=self.request.user)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("plain", PlainItemViewSet, basename="plain")
urlpatterns = router.urls
