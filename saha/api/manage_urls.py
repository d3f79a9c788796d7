"""The organizer's API pages (tokens, settings, webhooks) under manage/<slug>/api/."""

from saha.api.views import manage

app_name = "api_manage"

urlpatterns = manage.urlpatterns
