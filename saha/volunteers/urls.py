"""Public pages (views/public.py), signed-link pages (views/links.py) and the organizer's
pages (views/manage.py)."""

from django.urls import path

from saha.volunteers.views import links, manage, public

app_name = "volunteers"

urlpatterns = [
    path("o/<slug:slug>/volunteer/", public.offer_page, name="offer"),
    path("o/<slug:slug>/volunteer/thanks/", public.offered_page, name="offered"),
    path("o/<slug:slug>/needs/<int:pk>/", public.need_page, name="need"),
    path("o/<slug:slug>/needs/<int:pk>/thanks/", public.need_thanks_page, name="need_thanks"),
    path("v/<str:token>/", links.offer_manage_page, name="offer_manage"),
    path("v/<str:token>/respond/", links.respond_page, name="respond"),
    *manage.urlpatterns,
]
