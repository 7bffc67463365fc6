"""URL map: /staff/ back office, /portal/ borrower portal, /api/v1/ REST API,
/api/docs/ interactive API docs, /admin/ configuration, /healthz health."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

import arrears.urls
import customers.urls
import origination.urls
import reporting.urls
import servicing.urls
import users.urls
import users.views
import users.views.operations
from core.views.health import healthz

handler400 = "core.views.errors.error_400"
handler403 = "core.views.errors.error_403"
handler404 = "core.views.errors.error_404"
handler500 = "core.views.errors.error_500"

staff_patterns = [
    path("", users.views.staff_home, name="staff-home"),
    path("", include((users.urls.staff_patterns, "users"))),
    path("customers/", include((customers.urls.staff_patterns, "customers"))),
    path("origination/", include((origination.urls.staff_patterns, "origination"))),
    path("servicing/", include((servicing.urls.staff_patterns, "servicing"))),
    path("collections/", include((arrears.urls.staff_patterns, "collections"))),
    path("reports/", include((reporting.urls.staff_patterns, "reporting"))),
    path("business-date/", users.views.operations.business_date, name="business-date"),
    path("business-date/eod/<int:run_id>/", users.views.operations.eod_run, name="eod-run"),
    path(
        "business-date/eod/<int:run_id>/progress/",
        users.views.operations.eod_run_progress,
        name="eod-run-progress",
    ),
    path("audit/", users.views.operations.audit_log, name="audit-log"),
    path(
        "audit/<str:object_type>/<str:object_id>/",
        users.views.operations.object_history,
        name="audit-object",
    ),
]

portal_patterns = [
    *users.urls.portal_patterns,
    *customers.urls.portal_patterns,
    *origination.urls.portal_patterns,
    *servicing.urls.portal_patterns,
]

api_patterns = [
    *customers.urls.api_patterns,
    *origination.urls.api_patterns,
    *servicing.urls.api_patterns,
    *arrears.urls.api_patterns,
    *reporting.urls.api_patterns,
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="api-schema",
    ),
]

urlpatterns = [
    path("", users.views.landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("staff/", include(staff_patterns)),
    path("portal/", include((portal_patterns, "portal"))),
    path("api/v1/", include(api_patterns)),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", permission_classes=[AllowAny], authentication_classes=[]
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
