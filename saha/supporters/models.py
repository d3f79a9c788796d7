"""Supporters: people, how to reach them, what they agreed to, and how they are grouped.

A `Person` belongs to one organization. Email addresses and phone numbers are
unique per organization, which is what makes `upsert_person` safe when two
sign-ups for the same address arrive at once. Consent is an append-only
ledger (`ConsentRecord`); `ConsentState` is the current status derived from
it, kept in the same transaction so segments can filter on it cheaply.
"""

from __future__ import annotations

from typing import Any, NoReturn
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned, OrganizationQuerySet
from saha.supporters.text import normalize_name


class Source(models.TextChoices):
    FORM = "form", _("Web form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    MANUAL = "manual", _("Added by an organizer")
    EVENT = "event", _("Event")
    PETITION = "petition", _("Petition")
    VOLUNTEER = "volunteer", _("Volunteer offer")


class ContactStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCING = "bouncing", _("Bouncing")
    COMPLAINED = "complained", _("Complained")


class PersonQuerySet(OrganizationQuerySet):
    def search(self, term: str, organization: Any = None) -> PersonQuerySet:
        """Name prefix, email prefix, or a phone number (whole, as typed, or its last digits).

        Name and email prefixes use their indexes (pattern operator classes on
        PostgreSQL, whatever the database's collation); so does a whole number.
        Only a bare run of last digits scans the phone numbers.
        """
        from saha.supporters.text import normalize_phone, phone_digits

        term = term.strip()
        if not term:
            return self
        # Naming the organization lets the contact lookups use their
        # (organization, ...) indexes rather than scan every organization's rows.
        scope = {"organization": organization} if organization is not None else {}
        if "@" in term:
            emails = PersonEmail.objects.filter(**scope, address__startswith=term.lower())
            return self.filter(models.Exists(emails.filter(person=models.OuterRef("pk"))))
        digits = phone_digits(term)
        if digits and len(digits) >= 4 and len(digits) * 2 >= len(term.replace(" ", "")):
            phone = normalize_phone(term)
            if phone is not None:
                phones = PersonPhone.objects.filter(**scope, number=phone.number)
            else:
                phones = PersonPhone.objects.filter(**scope, number__endswith=digits[-8:])
            return self.filter(models.Exists(phones.filter(person=models.OuterRef("pk"))))
        return self.filter(name_key__startswith=normalize_name(term))


class Person(OrganizationOwned):
    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    # Case- and diacritic-folded "given family", for search by prefix.
    name_key = models.CharField(max_length=301, blank=True, editable=False)
    language = models.CharField(_("preferred language"), max_length=8, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region or governorate"), max_length=100, blank=True)
    locality = models.CharField(_("locality"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    # Rounded to two decimals (about a kilometre): enough to plan, too coarse to find a home.
    latitude = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    longitude = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    source_ref = models.CharField(max_length=300, blank=True)
    referrer = models.CharField(_("referrer"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    modified_at = models.DateTimeField(_("modified"), default=timezone.now)
    # Bumped by every action of the person (a signature, an RSVP, a sign-up):
    # the retention rules forget people whose last activity is old.
    last_activity_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # Few indexes on purpose: each one slows every imported row, and a
        # segment over a large share of people scans anyway (docs/performance-scripts.md).
        indexes = [
            models.Index(fields=["organization", "-id"], name="person_org_id"),
            models.Index(
                fields=["organization", "name_key"],
                name="person_org_name",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["organization", "last_activity_at"], name="person_org_activity"),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: this string lands in the audit log, which
        # outlives an erasure.
        return f"person #{self.pk}"

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)

    def refresh_name_key(self) -> None:
        self.name_key = normalize_name(f"{self.given_name} {self.family_name}")[:301]


class PersonEmail(OrganizationOwned):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    address = models.CharField(_("email address"), max_length=254)
    status = models.CharField(
        _("status"), max_length=20, choices=ContactStatus.choices, default=ContactStatus.SUBSCRIBED
    )
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "address"], name="email_unique_per_org")
        ]
        indexes = [
            models.Index(fields=["person"], name="email_person"),
            # Search by the beginning of an address (LIKE 'x%') on PostgreSQL.
            models.Index(
                fields=["organization", "address"],
                name="email_org_prefix",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.address


class PersonPhone(OrganizationOwned):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone number"), max_length=16)  # E.164
    sms_capable = models.BooleanField(_("can receive SMS"), default=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ContactStatus.choices, default=ContactStatus.SUBSCRIBED
    )
    is_primary = models.BooleanField(default=False)
    # The day of the event this number was collected for, if any: a retention
    # rule can drop such numbers some days after it.
    collected_for_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="phone_unique_per_org")
        ]
        indexes = [models.Index(fields=["person"], name="phone_person")]

    def __str__(self) -> str:
        return self.number


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")


class CustomField(OrganizationOwned):
    """A field the organization adds to its people, such as "union branch"."""

    key = models.SlugField(_("key"), max_length=50)
    labels = models.JSONField(_("labels"), default=dict)  # {language: label}
    kind = models.CharField(_("kind"), max_length=10, choices=FieldKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        language = language or get_language() or ""
        return self.labels.get(language) or next(iter(self.labels.values()), self.key)


class Tag(OrganizationOwned):
    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    # Person and tag are always of the same organization (the services see to it).
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], name="tagging_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.person_id}"


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Agreed")
    PENDING = "pending", _("Waiting for confirmation")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentSource(models.TextChoices):
    FORM = "form", _("Web form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    MANUAL = "manual", _("Organizer, by hand")
    CONFIRMATION = "confirmation", _("Confirmation link")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    PREFERENCES = "preferences", _("Preference page")
    SMS_REPLY = "sms_reply", _("Reply to an SMS")
    COMPLAINT = "complaint", _("Spam complaint")
    MERGE = "merge", _("Merge of two people")


DEFAULT_PURPOSE = "updates"


class ConsentRecordQuerySet(OrganizationQuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("The consent ledger is append-only.")


class ConsentRecord(OrganizationOwned):
    """One change of consent, with its proof. Never changed; removed only by erasure."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consent_records")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=50, default=DEFAULT_PURPOSE)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    # The form's URL, "import:<id>", "token:<id>", "user:<id>".
    source_ref = models.CharField(_("where"), max_length=300, blank=True)
    wording = models.TextField(_("words shown"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["person", "id"], name="consent_ledger")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The consent ledger is append-only.")
        super().save(*args, **kwargs)


class ConsentState(models.Model):
    """The current consent per channel and purpose: the latest record of the ledger."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=50, default=DEFAULT_PURPOSE)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    record = models.ForeignKey(ConsentRecord, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "channel", "purpose"], name="consent_state_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose}: {self.status}"


class Suppression(OrganizationOwned):
    """A contact whose owner withdrew consent and was then erased.

    Only a keyed hash of the address or number is kept, so that an old
    spreadsheet imported again cannot re-subscribe them; see `suppression.py`.
    """

    channel = models.CharField(max_length=10, choices=Channel.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "digest"], name="suppression_unique"
            )
        ]

    def __str__(self) -> str:
        return f"suppressed {self.channel}"


class Segment(OrganizationOwned):
    """A saved audience: a definition of criteria, evaluated when used."""

    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="segment_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PrivacySettings(OrganizationOwned):
    """An organization's choices about its people's data."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="privacy"
    )
    email_double_opt_in = models.BooleanField(
        _("confirm new email sign-ups by email (double opt-in)"), default=False
    )
    export_requires_approval = models.BooleanField(
        _("an export needs a second admin's approval"), default=False
    )
    forget_inactive_after_months = models.PositiveIntegerField(
        _("forget people with no activity and no consent after (months)"), null=True, blank=True
    )
    drop_event_phones_after_days = models.PositiveIntegerField(
        _("drop phone numbers collected for an event after it (days)"), null=True, blank=True
    )

    def __str__(self) -> str:
        return f"privacy of {self.organization_id}"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Columns to match")
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", _("They agreed to hear from us")
    MEMBERSHIP = "membership", _("They are members of the organization")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")


class ImportBatch(OrganizationOwned):
    """One CSV import: its file, mapping, attestation, progress and outcome."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    mapping = models.JSONField(default=dict)  # {column index as str: target field}
    tags = models.JSONField(default=list)
    language = models.CharField(max_length=8, blank=True)
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_wording = models.TextField(blank=True)
    lawful_basis = models.CharField(max_length=30, choices=LawfulBasis.choices)
    attested = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    # Rows of the file already committed: a rerun after a crash resumes there.
    rows_committed = models.PositiveIntegerField(default=0)
    header = models.JSONField(default=list)
    cancel_requested = models.BooleanField(default=False)
    total_bytes_read = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.file_name})"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.size:
            return 0
        return min(99, int(self.total_bytes_read * 100 / self.size))

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)


class ImportProblem(models.Model):
    """One line of an import's validation report."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()  # 1 is the header line
    column = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=40)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["row", "id"]

    def __str__(self) -> str:
        return f"row {self.row}: {self.code}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Refused")
    DONE = "done", _("Downloaded")


class ExportRequest(OrganizationOwned):
    """An export of a segment (or of everybody), approved by a second admin when required."""

    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True)
    segment_name = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=ExportStatus.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The audience as it was asked for and approved: editing the segment
    # afterwards does not change what this export contains.
    definition = models.JSONField(default=dict)
    requested_count = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export #{self.pk}"
