"""Forms of the import and export pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saha.supporters.import_rows import TARGET_LABELS
from saha.supporters.importing import ENCODINGS, file_too_large
from saha.supporters.models import CustomField, ImportBatch, LawfulBasis, Segment, Tag
from saha.supporters.services import tag_names
from saha.supporters.text import clean_text

TAG_LENGTH = Tag._meta.get_field("name").max_length

ENCODING_LABELS = {
    "auto": _("Detect (UTF-8)"),
    "utf-8": _("UTF-8"),
    "windows-1256": _("Windows Arabic (1256)"),
    "windows-1252": _("Windows Western European (1252)"),
    "utf-16": _("UTF-16 (Excel “Unicode text”)"),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Comma, semicolon or tab separated; the first line names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"), choices=[(k, ENCODING_LABELS[k]) for k in ENCODINGS], initial="auto"
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        """`too_large`: the upload was stopped at the size limit (the file is not there)."""
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        if too_large:
            self.fields["file"].required = False

    def clean_file(self) -> Any:
        if self.too_large:
            error = file_too_large()
            raise forms.ValidationError(error.message, code=error.code)
        return self.cleaned_data["file"]


class MappingForm(forms.Form):
    """One choice per column of the file, then tags, consent and the attestation."""

    tags = forms.CharField(
        label=_("Tag everyone imported"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas."),
    )
    consent_email = forms.BooleanField(label=_("They agreed to receive emails"), required=False)
    consent_sms = forms.BooleanField(
        label=_("They agreed to receive text messages"), required=False
    )
    consent_wording = forms.CharField(
        label=_("The words they agreed to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with each person as the proof of their consent."),
    )
    language = forms.ChoiceField(label=_("Language of those words"), required=False)
    lawful_basis = forms.ChoiceField(
        label=_("Why we may keep these people"), choices=LawfulBasis.choices
    )
    attested = forms.BooleanField(
        label=_(
            "I confirm that the organization may keep and contact the people in this file "
            "on the basis above."
        ),
        required=True,
    )

    def __init__(
        self, *args: Any, batch: ImportBatch, samples: list[list[str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "—"), *settings.LANGUAGES]
        targets = [("", _("Leave out")), *TARGET_LABELS.items()]
        targets += [
            (f"custom:{field.key}", field.label())
            for field in CustomField.objects.for_org(batch.organization)
        ]
        self.columns = []
        for index, header in enumerate(batch.header):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1},
                choices=targets,
                required=False,
                initial=batch.mapping.get(str(index), ""),
            )
            examples = [row[index] for row in samples if index < len(row) and row[index].strip()]
            self.columns.append((self[name], examples[:3]))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = [data.get(f"column_{i}") for i in range(len(self.columns))]
        used = [target for target in chosen if target]
        if len(used) != len(set(used)):
            raise forms.ValidationError(_("Each kind of data can come from one column only."))
        if not {"email", "phone"} & set(used):
            raise forms.ValidationError(_("Choose the column with emails or the one with phones."))
        if (data.get("consent_email") or data.get("consent_sms")) and not (
            data.get("consent_wording") or ""
        ).strip():
            self.add_error(
                "consent_wording", _("Give the words they agreed to, as the proof of consent.")
            )
        return data

    def clean_tags(self) -> str:
        tags: str = self.cleaned_data["tags"]
        if any(len(clean_text(tag)) > TAG_LENGTH for tag in tags.split(",")):
            raise forms.ValidationError(
                _("A tag can be %(count)s characters long at most."),
                code="tag_too_long",
                params={"count": TAG_LENGTH},
            )
        return tags

    def mapping(self) -> dict[str, str]:
        return {
            str(i): self.cleaned_data[f"column_{i}"]
            for i in range(len(self.columns))
            if self.cleaned_data.get(f"column_{i}")
        }

    def tag_list(self) -> list[str]:
        return tag_names(self.cleaned_data["tags"].split(","))


class ExportForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("People to export"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("Everybody"),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.for_org(organization)  # type: ignore[attr-defined]
