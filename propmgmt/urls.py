from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.registration.views import PasswordResetPage, confirm_page

api_v1 = [
    path("auth/", include("apps.accounts.api.urls")),
    path("auth/", include("apps.registration.api.urls")),
    path("", include("apps.properties.api.urls")),
    path("", include("apps.assets.api.urls")),
    path("", include("apps.visitors.api.urls")),
    path("", include("apps.repairs.api.urls")),
    path("", include("apps.complaints.api.urls")),
    path("", include("apps.registration.api.routes")),
    path("", include("apps.announcements.api.urls")),
    path("", include("apps.amenities.api.urls")),
    path("", include("apps.front_desk.api.urls")),
    path("notifications/", include("apps.notifications.api.urls")),
    path("reports/", include("apps.reporting.api.urls")),
    path("ops/", include("apps.messaging.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script served as a file (same URL, ?script): the CSP forbids inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("admin/reports/", include("apps.reporting.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("accounts/confirm/", confirm_page, name="account-confirm-page"),
    path(
        "accounts/reset/<uidb64>/<token>/", PasswordResetPage.as_view(), name="password-reset-page"
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password-reset-done-page",
    ),
    path("", include("apps.ops.urls")),
]

admin.site.site_header = "propmgmt administration"
admin.site.site_title = "propmgmt"
