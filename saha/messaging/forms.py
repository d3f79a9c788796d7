"""Forms of the organizer's broadcast and messaging-settings pages.

Forms parse and validate; every write goes through broadcasts.py or
settings_services.py. A form that needs the organization (its segments, its
time zone) takes it as a keyword.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.messaging import rendering
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.models import Broadcast, MessagingSettings
from saha.messaging.purposes import purposes
from saha.messaging.settings_services import check_header_text, normalize_sms_sender
from saha.supporters.models import Channel, Segment

if TYPE_CHECKING:
    from saha.organizations.models import Organization

MAX_BODY = 50_000
# How far ahead a broadcast may be scheduled.
MAX_SCHEDULE_DAYS = 366
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def language_names() -> dict[str, Any]:
    return dict(settings.LANGUAGES)


class BroadcastForm(forms.Form):
    """A broadcast's settings: everything but its text."""

    name = forms.CharField(
        label=_("Internal name"),
        max_length=200,
        help_text=_("Only members see it, in this list."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect, initial=Channel.EMAIL
    )
    segment = forms.ModelChoiceField(
        label=_("Audience"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("Everyone who agreed"),
        help_text=_("Only people who agreed to this purpose on this channel receive it."),
    )
    purpose = forms.ChoiceField(label=_("Purpose"))
    fallback_language = forms.ChoiceField(
        label=_("Fallback language"),
        help_text=_("People whose language has no version receive this one."),
    )
    urgent = forms.BooleanField(
        label=_("Urgent"),
        required=False,
        help_text=_(
            "An urgent text message goes out even during the SMS quiet hours set in the "
            "messaging settings. Keep it for day-of alerts."
        ),
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        broadcast: Broadcast | None = None,
        **kwargs: Any,
    ) -> None:
        if broadcast is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": broadcast.name,
                "channel": broadcast.channel,
                "segment": broadcast.segment_id,
                "purpose": broadcast.purpose,
                "fallback_language": broadcast.fallback_language,
                "urgent": broadcast.urgent,
            }
        kwargs.setdefault("initial", {}).setdefault(
            "fallback_language", organization.default_language
        )
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.for_org(organization)  # type: ignore[attr-defined]
        self.fields["purpose"].choices = [(p.key, p.label) for p in purposes()]  # type: ignore[attr-defined]
        self.fields["fallback_language"].choices = settings.LANGUAGES  # type: ignore[attr-defined]

    def data_for_service(self) -> BroadcastData:
        data = self.cleaned_data
        return BroadcastData(
            name=data["name"].strip(),
            channel=data["channel"],
            segment=data["segment"],
            fallback_language=data["fallback_language"],
            purpose=data["purpose"],
            urgent=data["urgent"],
        )


class AudienceForm(forms.Form):
    """The fields of BroadcastForm that decide who receives it, for the live count."""

    channel = forms.ChoiceField(choices=Channel.choices)
    segment = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False)
    purpose = forms.ChoiceField()

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.for_org(organization)  # type: ignore[attr-defined]
        self.fields["purpose"].choices = [(p.key, p.label) for p in purposes()]  # type: ignore[attr-defined]


def _unknown_fields_error(text: str) -> forms.ValidationError | None:
    unknown = rendering.unknown_fields(text)
    if not unknown:
        return None
    return forms.ValidationError(
        _("Unknown merge field: %(fields)s. Use one of the fields listed below the message."),
        code="unknown_field",
        params={"fields": ", ".join(f"{{{{ {name} }}}}" for name in unknown)},
    )


class VersionForm(forms.Form):
    """The broadcast in one language: a subject (email only) and a Markdown body."""

    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Markdown: a blank line between paragraphs, **bold**, *italics*, "
            "[a link](https://example.org)."
        ),
    )

    def __init__(self, *args: Any, channel: str, language: str, bidi: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        direction = "rtl" if bidi else "ltr"
        for name in ("subject", "body"):
            self.fields[name].widget.attrs.update({"dir": direction, "lang": language})
        if channel == Channel.SMS:
            del self.fields["subject"]
            self.fields["body"].help_text = _(
                "Plain text. A link is sent as its address. Long messages are sent in parts."
            )
            self.fields["body"].widget.attrs["rows"] = 6
        else:
            self.fields["subject"].required = True

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if error := _unknown_fields_error(subject):
            raise error
        return subject

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        if not body.strip():
            raise forms.ValidationError(_("Write the message."), code="required")
        if error := _unknown_fields_error(body):
            raise error
        return body


class SendTestForm(forms.Form):
    address = forms.CharField(label=_("Send the test to"), max_length=254)
    language = forms.ChoiceField(label=_("Version"))

    def __init__(
        self, *args: Any, broadcast: Broadcast, languages: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        names = language_names()
        self.fields["language"].choices = [(code, names.get(code, code)) for code in languages]  # type: ignore[attr-defined]
        address = self.fields["address"]
        if broadcast.channel == Channel.EMAIL:
            address.label = _("Email address")
            address.widget = forms.EmailInput(attrs={"autocomplete": "email"})
        else:
            address.label = _("Mobile number")
            address.widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
            address.help_text = _("With the country code, such as +961 3 123 456.")


class SendForm(forms.Form):
    """When to send; which button was pressed says whether now or later.

    A POST without one of the buttons (an empty one, one from another page)
    sends nothing: sending is never what a form means by default.
    """

    SEND, SCHEDULE = "send", "schedule"

    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["send_at"].help_text = _(
            "To send later, choose a time and press “Schedule”. The time is in the "
            "organization's time zone, %(zone)s."
        ) % {"zone": organization.time_zone}

    def clean_send_at(self) -> dt.datetime | None:
        # The organizer pages run in the organization's time zone, so the form
        # has already read the typed time there (and refused one a clock change skips).
        when: dt.datetime | None = self.cleaned_data["send_at"]
        if when is None:
            return None
        now = timezone.now()
        if when <= now:
            raise forms.ValidationError(
                _("This time has passed. Choose a later one, or leave it empty to send now."),
                code="past",
            )
        if when > now + dt.timedelta(days=MAX_SCHEDULE_DAYS):
            raise forms.ValidationError(_("Choose a time within the next year."), code="too_far")
        return when

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = self.data.get("action")
        if action not in (self.SEND, self.SCHEDULE):
            raise forms.ValidationError(
                _("Press one of the buttons to send the broadcast."), code="no_action"
            )
        if "send_at" not in data:  # already refused on its field
            return data
        if action == self.SCHEDULE and data["send_at"] is None:
            self.add_error(
                "send_at",
                forms.ValidationError(_("Choose when to send it."), code="required"),
            )
        elif action == self.SEND and data["send_at"] is not None:
            self.add_error(
                "send_at",
                forms.ValidationError(
                    _("To send now, empty the time; to send at this time, press “Schedule”."),
                    code="time_with_send",
                ),
            )
        return data


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, stop this broadcast. Messages not yet sent will not be sent."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class MessagingSettingsForm(forms.ModelForm):
    class Meta:
        model = MessagingSettings
        fields = [
            "from_name",
            "from_email",
            "reply_to",
            "sms_sender",
            "quiet_start",
            "quiet_end",
            "broadcast_requires_approval",
        ]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sms_sender": forms.TextInput(attrs={"dir": "ltr"}),
        }
        help_texts = {
            "from_name": _("Shown as the sender of emails. Empty: the organization's name."),
            "from_email": _(
                "An address of a domain the server may send for. Empty: the server's address."
            ),
            "reply_to": _("Where replies go. Empty: the sender address."),
            "sms_sender": _(
                "A phone number with its country code, or a name of up to 11 Latin letters "
                "and digits where the SMS provider allows it."
            ),
            "broadcast_requires_approval": _(
                "Then “Send” asks for approval, and another owner or admin sends it."
            ),
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = organization.time_zone
        self.fields["quiet_end"].help_text = _(
            "No text message is sent between these two times, in the organization's time "
            "zone (%(zone)s), unless the broadcast is urgent. The same time twice: no quiet hours."
        ) % {"zone": zone}

    def clean_from_name(self) -> str:
        return check_header_text(self.cleaned_data["from_name"])

    def clean_from_email(self) -> str:
        return check_header_text(self.cleaned_data["from_email"])

    def clean_reply_to(self) -> str:
        return check_header_text(self.cleaned_data["reply_to"])

    def clean_sms_sender(self) -> str:
        return normalize_sms_sender(self.cleaned_data["sms_sender"])

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
