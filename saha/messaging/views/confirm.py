"""The double opt-in link: a page with one button, so a mail scanner's visit confirms nothing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from saha.core.errors import DomainError
from saha.supporters.consent import confirm_consent


@csrf_exempt  # the signed token is the proof; the person may have no session here
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            record = confirm_consent(token)
        except DomainError:
            return render(request, "messaging/confirm.html", {"invalid": True}, status=404)
        if record.language and "lang" not in request.GET:
            translation.activate(record.language)
            request.LANGUAGE_CODE = record.language
        return render(request, "messaging/confirm.html", {"confirmed": True})
    return render(request, "messaging/confirm.html", {"token": token})


urlpatterns = [path("c/<str:token>/", confirm_email, name="messaging_confirm_email")]
