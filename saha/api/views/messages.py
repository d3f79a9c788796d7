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
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, filters, hal
from saha.api.errors import ApiError
from saha.api.resources import messages as resource
from saha.api.resources.messages import MessageInput, ScheduleInput, render_message
from saha.api.views.base import (
    BACKGROUND,
    PAGE_PARAMETERS,
    OsdiView,
    filter_parameter,
    validated,
)
from saha.core.errors import Conflict
from saha.messaging import broadcasts
from saha.messaging.models import Broadcast, BroadcastStatus
from saha.organizations.models import Organization

LIST_PARAMETERS = [*PAGE_PARAMETERS, filter_parameter("created_date, modified_date (eq, gt, lt)")]
SENDING = (BroadcastStatus.PREPARING, BroadcastStatus.SENDING, BroadcastStatus.PAUSED)
WAITING = (BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED)


def _rows() -> Any:
    return Broadcast.objects.select_related("organization", "segment").prefetch_related("versions")


def find(organization: Organization, message_id: str) -> Broadcast:
    """The organization's broadcast, or 404 (also for another organization's)."""
    value = hal.parse_id(message_id)
    row = _rows().filter(organization=organization, uuid=value).first() if value else None
    if row is None:
        raise ApiError("not_found", _("Not found."), status=404)
    return row


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

    def write(self, name: str, function: Any, **ids: str) -> Broadcast | None:
        """Run the write now, or queue it (None) when the client asked for the background."""
        data = self.request.data
        if isinstance(data, QueryDict):  # an empty body
            data = {}
        if self.background_requested():
            if "message_id" in ids:  # an unknown (or another's) message is a 404 now, not later
                find(self.organization, ids["message_id"])
            background.enqueue(
                name, organization=self.organization, actor=self.actor, data=data, **ids
            )
            return None
        return function(organization=self.organization, actor=self.actor, data=data, **ids)


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
    @extend_schema(
        operation_id="messages_list",
        tags=["messages"],
        parameters=LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("filter")
        rows = (
            _rows()
            .filter(organization=self.organization)
            .filter(filters.parse(text, resource.FILTERS))
            .order_by("-created_at", "-pk")
        )
        page = hal.collection(
            request,
            path="messages",
            rel="messages",
            queryset=rows,
            render=render_message,
            query={"filter": text},
            prepare=resource.prepare_page,
        )
        return Response(page)

    @extend_schema(
        operation_id="messages_create",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=MessageInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        broadcast = self.write("messages.create", create_message)
        return Response(
            {} if broadcast is None else _item(find(self.organization, str(broadcast.uuid)))
        )


class MessageDetail(MessageView):
    @extend_schema(
        operation_id="messages_retrieve", tags=["messages"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, message_id: str) -> Response:
        return Response(_item(find(self.organization, message_id)))

    @extend_schema(
        operation_id="messages_update",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=MessageInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def put(self, request: Request, message_id: str) -> Response:
        broadcast = self.write("messages.update", update_message, message_id=message_id)
        return Response({} if broadcast is None else _item(find(self.organization, message_id)))


class ScheduleHelper(MessageView):
    @extend_schema(
        operation_id="messages_schedule",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=ScheduleInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, message_id: str) -> Response:
        broadcast = self.write("messages.schedule", schedule_message, message_id=message_id)
        if broadcast is None:
            return Response({})
        if broadcast.status == BroadcastStatus.AWAITING_APPROVAL:
            text = _(
                "Your message waits for an owner or admin to approve it; "
                "it is then sent at the scheduled time."
            )
        else:
            text = _("Your message has been scheduled.")
        return Response(_notice(broadcast, text))

    @extend_schema(
        operation_id="messages_unschedule",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def delete(self, request: Request, message_id: str) -> Response:
        broadcast = self.write("messages.unschedule", unschedule_message, message_id=message_id)
        if broadcast is None:
            return Response({})
        return Response(_notice(broadcast, _("The message is a draft again.")))


class SendHelper(MessageView):
    @extend_schema(
        operation_id="messages_send",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, message_id: str) -> Response:
        broadcast = self.write("messages.send", send_message, message_id=message_id)
        if broadcast is None:
            return Response({})
        if broadcast.status == BroadcastStatus.AWAITING_APPROVAL:
            text = _("Your message waits for an owner or admin to approve it before it is sent.")
        else:
            text = _("Your message is being sent.")
        return Response(_notice(broadcast, text))

    @extend_schema(
        operation_id="messages_stop",
        tags=["messages"],
        parameters=[BACKGROUND],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def delete(self, request: Request, message_id: str) -> Response:
        broadcast = self.write("messages.stop", stop_message, message_id=message_id)
        if broadcast is None:
            return Response({})
        return Response(
            _notice(broadcast, _("Your message has been stopped; what was sent stays sent."))
        )


ONE = r"^api/v2/messages/(?P<message_id>[^/]+)"

urlpatterns = [
    re_path(r"^api/v2/messages/?$", MessageList.as_view(), name="api-messages"),
    re_path(ONE + r"/?$", MessageDetail.as_view(), name="api-message"),
    re_path(ONE + r"/schedule/?$", ScheduleHelper.as_view(), name="api-message-schedule"),
    re_path(ONE + r"/send/?$", SendHelper.as_view(), name="api-message-send"),
]
