"""Messages (broadcasts): list, read, create and change drafts, schedule and send.

A token is nobody's account. Asking to send or schedule through the API is
the request a member makes with the send button: where the organization
requires a second admin's approval, the broadcast waits ("saha:status":
"awaiting") until an owner or admin approves it on the organizer pages. No
endpoint approves, so a token can never skip that approval.

Each write is registered for `?background_request=true`: the view runs the
same function now, or queues it and answers `200 {}`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiTypes
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, hal
from saha.api.resources import messages as resource
from saha.api.resources.messages import MessageInput, ScheduleInput, render_message
from saha.api.views.base import (
    BACKGROUND,
    LIST_PARAMETERS,
    OsdiView,
    operation,
    org_row,
    page,
    validated,
)
from saha.core.errors import Conflict
from saha.messaging import broadcasts
from saha.messaging.models import Broadcast, BroadcastStatus
from saha.organizations.models import Organization

SENDING = (BroadcastStatus.PREPARING, BroadcastStatus.SENDING, BroadcastStatus.PAUSED)
WAITING = (BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED)


def _rows() -> Any:
    return Broadcast.objects.select_related("organization", "segment").prefetch_related("versions")


def find(organization: Organization, message_id: str) -> Broadcast:
    """The organization's broadcast, or 404 (also for another organization's)."""
    return org_row(_rows(), organization, message_id)


def _require(broadcast: Broadcast, statuses: tuple[str, ...], code: str) -> None:
    if broadcast.status not in statuses:
        raise Conflict(code, _("The message's status does not allow this."))


# --- the writes (run in the request, or queued by name) ------------------------------


@background.write("messages.create")
def create_message(*, organization: Organization, actor: str, data: Any) -> Broadcast:
    settings, versions = resource.new_broadcast(organization, validated(MessageInput, data))
    with transaction.atomic():
        broadcast = broadcasts.create_broadcast(
            actor=actor, organization=organization, data=settings
        )
        _save(actor, broadcast, versions)
    return broadcast


@background.write("messages.update")
def update_message(
    *, organization: Organization, actor: str, data: Any, message_id: str
) -> Broadcast:
    broadcast = find(organization, message_id)
    _require(broadcast, (BroadcastStatus.DRAFT,), "not_draft")
    settings, versions = resource.changed_broadcast(broadcast, validated(MessageInput, data))
    with transaction.atomic():
        broadcasts.update_broadcast(actor=actor, broadcast=broadcast, data=settings)
        _save(actor, broadcast, versions)
    return broadcast


def _save(actor: str, broadcast: Broadcast, versions: list[resource.Version]) -> None:
    for version in versions:
        if version.body is None:
            broadcasts.delete_version(actor=actor, broadcast=broadcast, language=version.language)
        else:
            broadcasts.save_version(
                actor=actor,
                broadcast=broadcast,
                language=version.language,
                subject=version.subject,
                body=version.body,
            )


@background.write("messages.schedule")
def schedule_message(
    *, organization: Organization, actor: str, data: Any, message_id: str
) -> Broadcast:
    broadcast = find(organization, message_id)
    _require(broadcast, (BroadcastStatus.DRAFT,), "not_draft")
    when = validated(ScheduleInput, data)["scheduled_start_date"]
    resource.check_schedule(when)
    return broadcasts.request_send(actor=actor, broadcast=broadcast, when=when)


@background.write("messages.unschedule")
def unschedule_message(
    *, organization: Organization, actor: str, data: Any, message_id: str
) -> Broadcast:
    broadcast = find(organization, message_id)
    _require(broadcast, WAITING, "not_scheduled")
    return broadcasts.return_to_draft(actor=actor, broadcast=broadcast)


@background.write("messages.send")
def send_message(
    *, organization: Organization, actor: str, data: Any, message_id: str
) -> Broadcast:
    broadcast = find(organization, message_id)
    _require(broadcast, (BroadcastStatus.DRAFT,), "not_draft")
    return broadcasts.request_send(actor=actor, broadcast=broadcast)


@background.write("messages.stop")
def stop_message(
    *, organization: Organization, actor: str, data: Any, message_id: str
) -> Broadcast:
    broadcast = find(organization, message_id)
    _require(broadcast, SENDING, "not_sending")
    return broadcasts.cancel(actor=actor, broadcast=broadcast)


# --- the views ---------------------------------------------------------------------


class MessageView(OsdiView):
    resource = "messages"

    def body(self) -> Any:
        data = self.request.data
        return {} if isinstance(data, QueryDict) else data  # an empty body

    def helper(
        self, name: str, function: Any, message_id: str, done: str, awaiting: str | None = None
    ) -> Response:
        """A write on one message, answered with `_notice`: `awaiting` (where given) when
        the broadcast now waits for an approval, else `done`."""

        def notice(broadcast: Broadcast) -> dict[str, Any]:
            waits = broadcast.status == BroadcastStatus.AWAITING_APPROVAL
            return _notice(broadcast, awaiting if awaiting and waits else done)

        return self.written(
            name,
            function,
            notice,
            # An unknown (or another's) message is a 404 now, not later.
            check=lambda _data: find(self.organization, message_id),
            message_id=message_id,
        )


def _item(broadcast: Broadcast) -> dict[str, Any]:
    body = render_message(broadcast, count_audience=True)
    body["_links"]["curies"] = hal.curies()
    return body


def _notice(broadcast: Broadcast, message: str) -> dict[str, Any]:
    """What the helpers answer: Action Network's `message`, and where the broadcast stands."""
    return {
        "message": message,
        "status": resource.STATUS.get(broadcast.status, broadcast.status),
        "saha:status": broadcast.status,
        "saha:approval_required": broadcast.status == BroadcastStatus.AWAITING_APPROVAL,
        "_links": {"self": hal.link(resource.message_url(broadcast)), "curies": hal.curies()},
    }


class MessageList(MessageView):
    @operation("messages_list", "messages", parameters=LIST_PARAMETERS)
    def get(self, request: Request) -> Response:
        return page(
            request,
            _rows().filter(organization=self.organization).order_by("-created_at", "-pk"),
            path="messages",
            rel="messages",
            render=render_message,
            fields=resource.FILTERS,
            prepare=resource.prepare_page,
        )

    @operation("messages_create", "messages", parameters=[BACKGROUND], request=MessageInput)
    def post(self, request: Request) -> Response:
        return self.written(
            "messages.create",
            create_message,
            lambda broadcast: _item(find(self.organization, str(broadcast.uuid))),
        )


class MessageDetail(MessageView):
    @operation("messages_retrieve", "messages")
    def get(self, request: Request, message_id: str) -> Response:
        return Response(_item(find(self.organization, message_id)))

    @operation("messages_update", "messages", parameters=[BACKGROUND], request=MessageInput)
    def put(self, request: Request, message_id: str) -> Response:
        return self.written(
            "messages.update",
            update_message,
            lambda _broadcast: _item(find(self.organization, message_id)),
            check=lambda _data: find(self.organization, message_id),
            message_id=message_id,
        )


class ScheduleHelper(MessageView):
    @operation("messages_schedule", "messages", parameters=[BACKGROUND], request=ScheduleInput)
    def post(self, request: Request, message_id: str) -> Response:
        return self.helper(
            "messages.schedule",
            schedule_message,
            message_id,
            _("Your message has been scheduled."),
            awaiting=_(
                "Your message waits for an owner or admin to approve it; "
                "it is then sent at the scheduled time."
            ),
        )

    @operation("messages_unschedule", "messages", parameters=[BACKGROUND], request=None)
    def delete(self, request: Request, message_id: str) -> Response:
        return self.helper(
            "messages.unschedule",
            unschedule_message,
            message_id,
            _("The message is a draft again."),
        )


class SendHelper(MessageView):
    @operation("messages_send", "messages", parameters=[BACKGROUND], request=OpenApiTypes.OBJECT)
    def post(self, request: Request, message_id: str) -> Response:
        return self.helper(
            "messages.send",
            send_message,
            message_id,
            _("Your message is being sent."),
            awaiting=_("Your message waits for an owner or admin to approve it before it is sent."),
        )

    @operation("messages_stop", "messages", parameters=[BACKGROUND], request=None)
    def delete(self, request: Request, message_id: str) -> Response:
        return self.helper(
            "messages.stop",
            stop_message,
            message_id,
            _("Your message has been stopped; what was sent stays sent."),
        )


ONE = r"^api/v2/messages/(?P<message_id>[^/]+)"

urlpatterns = [
    re_path(r"^api/v2/messages/?$", MessageList.as_view(), name="api-messages"),
    re_path(ONE + r"/?$", MessageDetail.as_view(), name="api-message"),
    re_path(ONE + r"/schedule/?$", ScheduleHelper.as_view(), name="api-message-schedule"),
    re_path(ONE + r"/send/?$", SendHelper.as_view(), name="api-message-send"),
]
