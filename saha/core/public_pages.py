"""What every public page (an event, a petition, a statement) shares: rendering as if
nobody were signed in, the 303 after a POST, absolute links, and share links.

Public pages carry no member's session into their templates: base.html's
scripts and menus are for signed-in organizers. A private public page (an
unlisted event, a ticket) is rendered as a recipient page: not indexed, not
cached, its URL kept out of referrers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from saha.messaging.views.public import render_recipient_page


def render_public(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    private: bool = False,
) -> HttpResponse:
    if private:
        language = translation.get_language() or settings.LANGUAGE_CODE
        return render_recipient_page(request, template, context, language=language, status=status)
    return render(request, template, {**context, "user": AnonymousUser()}, status=status)


def see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the browser GETs the new page
    return response


def absolute(path: str) -> str:
    return f"{settings.SAHA_BASE_URL}{path}"


def share_links(title: str, url: str, *, social: bool = False) -> list[dict[str, str]]:
    """Links that open each app with the page ready to send; no script, no tracking.
    `social` adds X and Facebook (after Telegram), for pages meant to travel widely."""
    message = f"{title}\n{url}"

    def encoded(value: str) -> str:
        return quote(value, safe="")

    links = [
        {"key": "whatsapp", "label": "WhatsApp", "href": f"https://wa.me/?text={encoded(message)}"},
        {
            "key": "telegram",
            "label": "Telegram",
            "href": f"https://t.me/share/url?url={encoded(url)}&text={encoded(title)}",
        },
        {
            "key": "email",
            "label": _("Email"),
            "href": f"mailto:?subject={encoded(title)}&body={encoded(message)}",
        },
        # `sms:?&body=` is the form both iOS and Android read.
        {"key": "sms", "label": _("SMS"), "href": f"sms:?&body={encoded(message)}"},
    ]
    if social:
        links[2:2] = [
            {
                "key": "x",
                "label": "X",
                "href": f"https://x.com/intent/post?text={encoded(title)}&url={encoded(url)}",
            },
            {
                "key": "facebook",
                "label": "Facebook",
                "href": f"https://www.facebook.com/sharer/sharer.php?u={encoded(url)}",
            },
        ]
    return links
