"""Public pages (views/public.py) and the organizer's pages (views/manage.py)."""

from saha.petitions.views import manage, public

app_name = "petitions"

urlpatterns = [*public.urlpatterns, *manage.urlpatterns]
