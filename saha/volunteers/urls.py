"""Public pages and the organizer's pages."""

from django.urls import path  # noqa: F401

app_name = "volunteers"

urlpatterns: list = []
