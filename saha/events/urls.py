"""Public pages (views/public.py), the organizer's pages (views/manage.py) and the gate."""

from django.urls import path

from saha.events.views import attendees, gate, manage, public

app_name = "events"

urlpatterns = [
    path("o/<slug:slug>/events/", public.event_list, name="list"),
    path("o/<slug:slug>/events/calendar.ics", public.event_feed, name="feed"),
    path("o/<slug:slug>/events/<slug:event>/", public.event_page, name="event"),
    path("o/<slug:slug>/events/<slug:event>/event.ics", public.event_ics, name="ics"),
    path("o/<slug:slug>/events/<slug:event>/thanks/", public.answered_page, name="answered"),
    path("t/<str:token>/", public.ticket_page, name="ticket"),
    *manage.urlpatterns,
    *attendees.urlpatterns,
    *gate.urlpatterns,
]
