from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language
from django.views.static import serve

from saha.core import views as core_views

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("", include("saha.organizations.urls")),
    path("", include("saha.supporters.urls")),
    path("", include("saha.messaging.urls")),
    path("", include("saha.events.urls")),
    path("", include("saha.petitions.urls")),
    path("", include("saha.statements.urls")),
    path("", include("saha.campaigns.urls")),
    path("", include("saha.volunteers.urls")),
    path("", include("saha.api.manage_urls")),
    path("", include("saha.api.urls")),
]

if settings.MEDIA_URL.startswith("/") and not settings.MEDIA_URL.startswith("//"):
    # Uploaded logos; a deployment with a CDN or proxy in front may serve them itself.
    urlpatterns.append(
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    )

handler400 = "saha.core.views.bad_request"
handler403 = "saha.core.views.permission_denied"
handler404 = "saha.core.views.page_not_found"
handler500 = "saha.core.views.server_error"
