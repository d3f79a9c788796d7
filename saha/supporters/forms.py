"""Forms of the organizer's people, segments and privacy pages.

Forms parse and validate; writes go through the services. A form that needs
the organization (its tags, segments, custom fields) takes it as a keyword.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import is_row_id
from saha.supporters import segments
from saha.supporters.models import (
    Channel,
    ConsentStatus,
    CustomField,
    FieldKind,
    Person,
    PersonEmail,
    PersonPhone,
    PrivacySettings,
    Segment,
    Tag,
)
from saha.supporters.services import PROFILE_FIELDS, tag_names
from saha.supporters.subject import PRIVACY_FIELDS
from saha.supporters.text import normalize_email, normalize_phone

if TYPE_CHECKING:
    from saha.organizations.models import Organization

CONSENT_FILTER_CHOICES = [
    ("", _("Any")),
    ("granted", _("Agreed")),
    ("not_granted", _("Did not agree, or withdrew")),
]
MAX_TAGS_TYPED = 20
BULK_LIMIT = 500


def language_choices(current: str = "") -> list[tuple[str, Any]]:
    """The site's languages, plus a person's own when it is another (kept, not lost on save)."""
    choices: list[tuple[str, Any]] = [("", _("Not known")), *settings.LANGUAGES]
    if current and current not in dict(settings.LANGUAGES):
        choices.append((current, current))
    return choices


def split_tags(value: str) -> list[str]:
    """Tags typed as "volunteers, Beirut; donors": commas (Latin or Arabic) or semicolons."""
    for separator in ("،", ";"):
        value = value.replace(separator, ",")
    return tag_names(value.split(","))


class TagsField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("help_text", _("Separate tags with commas."))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        names = split_tags(super().clean(value) or "")
        if len(names) > MAX_TAGS_TYPED:
            raise forms.ValidationError(
                _("At most %(count)d tags at once.") % {"count": MAX_TAGS_TYPED}
            )
        if self.required and not names:
            raise forms.ValidationError(_("Type at least one tag."))
        return names


# --- The people list ---------------------------------------------------------


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, email or phone")}),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=Tag.objects.none(), required=False, empty_label=_("Any tag")
    )
    consent_email = forms.ChoiceField(
        label=_("Email consent"), choices=CONSENT_FILTER_CHOICES, required=False
    )
    consent_sms = forms.ChoiceField(
        label=_("SMS consent"), choices=CONSENT_FILTER_CHOICES, required=False
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("Everybody"),
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.for_org(organization)  # type: ignore[attr-defined]
        self.fields["segment"].queryset = Segment.objects.for_org(organization)  # type: ignore[attr-defined]
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", _("Any")),
            *settings.LANGUAGES,
        ]

    def value(self, name: str) -> Any:
        """A field's clean value, or nothing when it was invalid (its error is shown)."""
        return getattr(self, "cleaned_data", {}).get(name) or None

    def definition(self) -> dict[str, Any]:
        """The filters as a segment definition, so the list and segments agree on meaning."""
        definition: dict[str, Any] = {}
        if tag := self.value("tag"):
            definition["tags_any"] = [tag.pk]
        for key in ("consent_email", "consent_sms"):
            if value := self.value(key):
                definition[key] = value
        if language := self.value("language"):
            definition["language"] = [language]
        if region := (self.value("region") or "").strip():
            definition["region"] = [region]
        return definition

    def has_filters(self) -> bool:
        """Anything chosen beyond the search box."""
        return bool(self.definition() or self.value("segment"))

    def is_filtered(self) -> bool:
        return bool(self.value("q")) or self.has_filters()


class BulkTagForm(forms.Form):
    person = forms.TypedMultipleChoiceField(coerce=int, required=True)
    tags = TagsField(label=_("Tags to add to the selected people"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any ids; the view keeps only the organization's people among them.
        self.fields["person"].valid_value = lambda value: True  # type: ignore[attr-defined]
        self.fields["person"].error_messages["required"] = _("Select at least one person.")

    def clean_person(self) -> list[int]:
        ids = [pk for pk in self.cleaned_data["person"] if is_row_id(pk)]
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(
                _("At most %(count)d people at once.") % {"count": BULK_LIMIT}
            )
        return ids


# --- One person --------------------------------------------------------------


def custom_form_field(field: CustomField) -> forms.Field:
    label = field.label()
    if field.kind == FieldKind.NUMBER:
        return forms.DecimalField(label=label, required=False, max_digits=20, decimal_places=6)
    if field.kind == FieldKind.DATE:
        return forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    if field.kind == FieldKind.CHOICE:
        options: list[tuple[Any, Any]] = [
            (c[0], c[1]) if isinstance(c, list | tuple) else (c, c) for c in field.choices
        ]
        return forms.ChoiceField(label=label, required=False, choices=[("", "---"), *options])
    return forms.CharField(label=label, required=False, max_length=500)


def custom_json(value: Any) -> Any:
    """A custom field's clean value as it is stored in `Person.custom_fields`."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if value is not None else ""


class PersonForm(forms.Form):
    """Names, language, place and the organization's custom fields."""

    given_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Preferred language"), required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two letters, such as LB."),
        widget=forms.TextInput(attrs={"dir": "ltr", "size": 3}),
    )
    region = forms.CharField(label=_("Region or governorate"), max_length=100, required=False)
    locality = forms.CharField(label=_("Locality"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)

    def __init__(
        self, *args: Any, organization: Organization, person: Person | None = None, **kwargs: Any
    ) -> None:
        if person is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(person, name) for name in PROFILE_FIELDS},
                **{f"cf_{k}": v for k, v in person.custom_fields.items()},
            }
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(  # type: ignore[attr-defined]
            person.language if person else ""
        )
        self.custom_fields = list(CustomField.objects.for_org(organization))
        for field in self.custom_fields:
            self.fields[f"cf_{field.key}"] = custom_form_field(field)

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError(_("Two letters, such as LB."))
        return country

    def profile(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PROFILE_FIELDS}

    def custom_values(self) -> dict[str, Any]:
        return {
            f.key: custom_json(self.cleaned_data.get(f"cf_{f.key}")) for f in self.custom_fields
        }


class NewPersonForm(PersonForm):
    """A person the organizer adds by hand, with the consent they recorded themselves."""

    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    tags = TagsField(label=_("Tags"), required=False)
    consent_email = forms.BooleanField(label=_("They agreed to receive emails"), required=False)
    consent_sms = forms.BooleanField(
        label=_("They agreed to receive text messages"), required=False
    )
    consent_wording = forms.CharField(
        label=_("How and when they agreed"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Agreed by phone on 3 May")}),
        help_text=_("Kept as the proof of their consent."),
    )

    field_order = ["given_name", "family_name", "email", "phone"]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        self.organization = organization
        self.existing: Person | None = None

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if not value:
            return ""
        address = normalize_email(value)
        if address is None:
            raise forms.ValidationError(_("This email address is not valid."))
        owner = PersonEmail.objects.for_org(self.organization).filter(address=address).first()
        if owner is not None:
            self.existing = owner.person
            raise forms.ValidationError(_("This address is already in your list."))
        return address

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        phone = normalize_phone(value)
        if phone is None:
            raise forms.ValidationError(_("This phone number is not valid."))
        owner = PersonPhone.objects.for_org(self.organization).filter(number=phone.number).first()
        if owner is not None:
            self.existing = owner.person
            raise forms.ValidationError(_("This number is already in your list."))
        return phone.number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact_errors = self.has_error("email") or self.has_error("phone")
        if not data.get("email") and not data.get("phone") and not contact_errors:
            raise forms.ValidationError(_("Give an email address or a phone number."))
        consents = data.get("consent_email") or data.get("consent_sms")
        if consents and not data.get("consent_wording", "").strip():
            self.add_error(
                "consent_wording", _("Say how and when they agreed: it is the proof of consent.")
            )
        if data.get("consent_email") and not data.get("email") and not self.has_error("email"):
            self.add_error("consent_email", _("Give their email address too."))
        if data.get("consent_sms") and not data.get("phone") and not self.has_error("phone"):
            self.add_error("consent_sms", _("Give their phone number too."))
        return data


class ContactForm(forms.Form):
    email = forms.CharField(
        label=_("Email"), max_length=254, required=False, widget=forms.EmailInput()
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if value and normalize_email(value) is None:
            raise forms.ValidationError(_("This email address is not valid."))
        return value

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if value and normalize_phone(value) is None:
            raise forms.ValidationError(_("This phone number is not valid."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number."))
        return data


class AddTagsForm(forms.Form):
    tags = TagsField(label=_("Add tags"))


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    status = forms.ChoiceField(
        label=_("Now"),
        choices=[
            (ConsentStatus.GRANTED, _("They agreed")),
            (ConsentStatus.WITHDRAWN, _("They withdrew")),
        ],
    )
    wording = forms.CharField(
        label=_("How and when"),
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Asked by phone on 3 May to stop the texts")}
        ),
        help_text=_("Kept in the consent history as the proof."),
    )


class MergeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the duplicate"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, email or phone")}),
    )


class MergeForm(forms.Form):
    keep = forms.TypedChoiceField(label=_("Keep"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, people: tuple[Person, Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [  # type: ignore[attr-defined]
            (p.pk, p.display_name or str(p)) for p in people
        ]
        self.fields["keep"].initial = min(p.pk for p in people)


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_(
            "Such as “asked to be forgotten, by email”. Do not write their name: "
            "the reason stays in the audit log."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


# --- Segments ----------------------------------------------------------------

CRITERION_PREFIX = "c_"


class SegmentForm(forms.Form):
    """A name and one field per registered criterion, built from the registry."""

    name = forms.CharField(label=_("Name"), max_length=120)

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        segment: Segment | None = None,
        **kwargs: Any,
    ) -> None:
        if segment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": segment.name,
                **{CRITERION_PREFIX + k: v for k, v in segment.definition.items()},
            }
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.segment = segment
        self.criteria = segments.criteria()
        for item in self.criteria:
            self.fields[CRITERION_PREFIX + item.key] = item.form_field(organization)

    def criteria_fields(self) -> list[forms.BoundField]:
        return [self[CRITERION_PREFIX + item.key] for item in self.criteria]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        taken = Segment.objects.for_org(self.organization).filter(name=name)
        if self.segment is not None:
            taken = taken.exclude(pk=self.segment.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another segment has this name."))
        return name

    def definition(self) -> dict[str, Any]:
        """The stored definition: only the criteria that say something."""
        definition = {}
        for item in self.criteria:
            value = self.cleaned_data.get(CRITERION_PREFIX + item.key)
            if item.is_empty(value):
                continue
            stored = item.to_json(value)
            if not item.is_empty(stored):
                definition[item.key] = stored
        return definition


class SegmentCriteriaForm(SegmentForm):
    """The criteria alone, for the live count (the name is not needed to count)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["name"]


def describe(organization: Organization, definition: dict[str, Any]) -> list[tuple[str, str]]:
    """A definition in words, (criterion label, values), for the segment's page."""
    lines = []
    for key, value in definition.items():
        item = segments.criterion(key)
        if item is None or item.is_empty(value):
            continue
        field = item.form_field(organization)
        values = value if isinstance(value, list) else [value]
        if isinstance(field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
            names = [str(obj) for obj in field.queryset.filter(pk__in=values)]  # type: ignore[union-attr]
        elif isinstance(field, forms.ChoiceField):
            labels = {str(k): str(v) for k, v in field.choices}  # type: ignore[misc,union-attr]
            names = [labels.get(str(v), str(v)) for v in values]
        else:
            names = [str(v) for v in values]
        lines.append((str(item.label), ", ".join(names) or "—"))
    return lines


# --- Privacy settings --------------------------------------------------------


class PrivacySettingsForm(forms.ModelForm):
    forget_inactive_after_months = forms.IntegerField(
        label=_("Forget people with no activity and no consent after (months)"),
        required=False,
        min_value=1,
        max_value=240,
        help_text=_("Leave empty to keep them until someone erases them."),
    )
    drop_event_phones_after_days = forms.IntegerField(
        label=_("Drop phone numbers collected for an event after it (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Numbers the person also gave outside an event are kept."),
    )

    class Meta:
        model = PrivacySettings
        fields = PRIVACY_FIELDS
        help_texts = {
            "email_double_opt_in": _(
                "New sign-ups by web form or API receive an email with a link; "
                "they are only emailed once they follow it."
            ),
            "export_requires_approval": _(
                "Another admin must approve each export before it can be downloaded. "
                "Turn this on only if at least two members can approve."
            ),
        }

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in PRIVACY_FIELDS}


class CustomFieldForm(forms.Form):
    """A new field: its name in each language, its kind and, for a choice, its options."""

    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a choice field: one option per line."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        label_fields = {
            f"label_{code}": forms.CharField(
                label=_("Name in %(language)s") % {"language": names[code]},
                required=False,
                max_length=100,
            )
            for code, _name in settings.LANGUAGES
        }
        self.fields = {**label_fields, **self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any((data.get(f"label_{code}") or "").strip() for code, _n in settings.LANGUAGES):
            raise forms.ValidationError(_("Give the field a name in at least one language."))
        if data.get("kind") == FieldKind.CHOICE and not self.choice_list():
            self.add_error("choices", _("A choice field needs its choices."))
        return data

    def labels(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"label_{code}", "") for code, _n in settings.LANGUAGES}

    def choice_list(self) -> list[str]:
        return [
            line.strip()
            for line in (self.cleaned_data.get("choices") or "").splitlines()
            if line.strip()
        ]
