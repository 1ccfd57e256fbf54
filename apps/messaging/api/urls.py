from django.urls import path

from apps.messaging.api.views import DeadLetterDetailView, DeadLetterListView, DeadLetterSettleView

urlpatterns = [
    path("dead-letters/", DeadLetterListView.as_view(), name="dead-letter-list"),
    path(
        "dead-letters/<str:queue>/replay/",
        DeadLetterSettleView.as_view(replay=True),
        name="dead-letter-replay",
    ),
    path(
        "dead-letters/<str:queue>/purge/",
        DeadLetterSettleView.as_view(replay=False),
        name="dead-letter-purge",
    ),
    path(
        "dead-letters/<str:queue>/<str:message_id>/",
        DeadLetterDetailView.as_view(),
        name="dead-letter-detail",
    ),
]
