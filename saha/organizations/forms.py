from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saha.organizations.models import Membership, Organization, slug_validator, validate_slug
from saha.organizations.roles import Permission, Role

MAX_LOGO_BYTES = 2 * 1024 * 1024


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


def text_in(language: str) -> dict[str, str]:
    """Widget attributes for text written in one language, whatever the page's language."""
    return {"lang": language, "dir": "auto"}


def add_per_language(
    form: forms.Form, prefix: str, label: Any, *, max_length: int, rows: int = 0
) -> None:
    """One optional field per offered language (`<prefix>_<code>`), written in that
    language whatever the page's: a line, or a box of `rows` rows."""
    for code, language in settings.LANGUAGES:
        attrs = text_in(code)
        widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs)
        form.fields[f"{prefix}_{code}"] = forms.CharField(
            label=label % {"language": language},
            max_length=max_length,
            required=False,
            widget=widget,
        )


def per_language_first(form: forms.Form, *prefixes: str) -> None:
    """The per-language fields first, all languages of one kind together."""
    codes = [code for code, _l in settings.LANGUAGES]
    form.order_fields([f"{prefix}_{code}" for prefix in prefixes for code in codes])


def per_language_initial(prefix: str, values: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}_{code}": values.get(code, "") for code, _l in settings.LANGUAGES}


def per_language_values(cleaned_data: dict[str, Any], prefix: str) -> dict[str, str]:
    """{language: text} of the fields filled in, stripped."""
    return {
        code: cleaned_data[f"{prefix}_{code}"].strip()
        for code, _l in settings.LANGUAGES
        if cleaned_data.get(f"{prefix}_{code}", "").strip()
    }


class OrganizationForm(forms.Form):
    """Names and about text per language, as separate fields, one set per language."""

    default_language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    logo = forms.ImageField(
        label=_("Logo"), required=False, help_text=_("A square PNG or JPEG, smaller than 2 MB.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, language in settings.LANGUAGES:
            self.fields[f"name_{code}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": language},
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs=text_in(code)),
            )
        self.order_fields([f"name_{code}" for code, _l in settings.LANGUAGES])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"name_{code}") for code, _l in settings.LANGUAGES):
            raise forms.ValidationError(_("Give the organization a name in at least one language."))
        return data

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The logo must be smaller than 2 MB."))
        return logo

    def names(self) -> dict[str, str]:
        return {
            code: self.cleaned_data[f"name_{code}"].strip()
            for code, _l in settings.LANGUAGES
            if self.cleaned_data.get(f"name_{code}", "").strip()
        }


class NewOrganizationForm(OrganizationForm):
    slug = forms.CharField(
        label=_("Web address"),
        max_length=50,
        validators=[slug_validator, validate_slug],
        help_text=_("Used in links, such as /o/green-coast/: lowercase letters, digits, hyphens."),
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if Organization.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("This web address is already taken."))
        return slug


class OrganizationSettingsForm(OrganizationForm):
    contact_email = forms.EmailField(label=_("Public contact email"), required=False)
    clear_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    require_mfa = forms.BooleanField(
        label=_("Require two-factor authentication of every member"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, language in settings.LANGUAGES:
            self.fields[f"about_{code}"] = forms.CharField(
                label=_("About (%(language)s)") % {"language": language},
                widget=forms.Textarea(attrs={"rows": 4, **text_in(code)}),
                max_length=2000,
                required=False,
            )

    @classmethod
    def initial_for(cls, organization: Organization) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "default_language": organization.default_language,
            "time_zone": organization.time_zone,
            "contact_email": organization.contact_email,
            "require_mfa": organization.require_mfa,
        }
        for code, _l in settings.LANGUAGES:
            initial[f"name_{code}"] = organization.names.get(code, "")
            initial[f"about_{code}"] = organization.about.get(code, "")
        return initial

    def about(self) -> dict[str, str]:
        return {
            code: self.cleaned_data[f"about_{code}"].strip()
            for code, _l in settings.LANGUAGES
            if self.cleaned_data.get(f"about_{code}", "").strip()
        }


def grantable_roles(membership: Membership) -> list[tuple[str, str]]:
    return [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or membership.can(Permission.MANAGE_OWNERS)
    ]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(membership)  # type: ignore[attr-defined]
        self.fields["role"].initial = Role.ORGANIZER


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(membership)  # type: ignore[attr-defined]


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label=_("Who"), required=False)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "organizations.member", "dir": "ltr"}),
        help_text=_("The start of an action's name."),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The members, not a scan of the whole log: cheap however long it grows.
        members = (
            Membership.objects.for_org(organization).select_related("user").order_by("user__email")
        )
        self.fields["actor"].choices = [("", _("Anyone"))] + [  # type: ignore[attr-defined]
            (str(m.user_id), str(m.user)) for m in members
        ]

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "actor_id": int(data["actor"]) if data.get("actor") else None,
            "action": data.get("action", "").strip(),
            "since": data.get("since"),
            "until": data.get("until"),
            "before_id": data.get("before"),
        }
