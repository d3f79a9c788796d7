"""Public pages (views/public.py) and the organizer's pages (views/manage.py)."""

from saha.campaigns.views import manage, public

app_name = "campaigns"

urlpatterns = [
    *public.urlpatterns,
    *manage.urlpatterns,
]
