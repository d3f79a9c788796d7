"""The organizer's people pages: the list, one person, and what can be done to them.

The list pages by keyset (`?after=<id>` for older people, `?before=<id>` for
newer ones), never by OFFSET, and counts only the organization's total on its
unfiltered first page: at a million people every page stays a constant,
small number of indexed queries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from saha.accounts.mfa import mfa_session_required
from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import segments, services, subject, timeline
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.forms import (
    AddTagsForm,
    BulkTagForm,
    ConsentForm,
    ContactForm,
    EraseForm,
    MergeForm,
    MergeSearchForm,
    NewPersonForm,
    PeopleFilterForm,
    PersonForm,
)
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentSource,
    ConsentState,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
    Tagging,
)
from saha.supporters.services import PersonData
from saha.supporters.text import normalize_email, normalize_phone

PAGE_SIZE = 50
MERGE_RESULTS = 20
TAG_SUGGESTIONS = 200
# The list counts the organization's people up to here: cheap however large
# it grows (an index-only scan of at most this many entries).
TOTAL_CAP = 100_000


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


def _person(request: HttpRequest, pk: int) -> Person:
    return get_for_org_or_404(Person, request.organization, pk=pk)  # type: ignore[attr-defined]


def _detail(person: Person) -> HttpResponse:
    return redirect("supporters:person_detail", person.organization.slug, person.pk)


# --- Reads -------------------------------------------------------------------


def search_people(organization: Any, people: QuerySet[Person], term: str) -> QuerySet[Person]:
    """Name prefix, email prefix or phone number: see `PersonQuerySet.search`."""
    return people.search(term, organization)  # type: ignore[attr-defined,no-any-return]


def filtered_people(organization: Any, form: PeopleFilterForm) -> QuerySet[Person]:
    people = segments.matching(organization, form.definition())
    if segment := form.value("segment"):
        people = people & segments.matching(organization, segment.definition)
    if term := (form.value("q") or "").strip():
        people = search_people(organization, people, term)
    return people


def keyset_page(
    people: QuerySet[Person], *, after: int | None, before: int | None, size: int = PAGE_SIZE
) -> tuple[list[Person], int | None, int | None]:
    """One page, newest first, with the ids for the "older" and "newer" links."""
    if before:
        rows = list(people.filter(pk__gt=before).order_by("pk")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return rows, (rows[-1].pk if rows else None), (rows[0].pk if more_newer else None)
    if after:
        people = people.filter(pk__lt=after)
    rows = list(people.order_by("-pk")[: size + 1])
    older = rows[size - 1].pk if len(rows) > size else None
    rows = rows[:size]
    return rows, older, (rows[0].pk if after and rows else None)


def with_contacts(people: list[Person]) -> list[Person]:
    """Contacts, tags and consent of a page of people, in four queries whatever its size."""
    prefetch_related_objects(
        people,
        Prefetch("emails", PersonEmail.objects.order_by("-is_primary", "id"), to_attr="email_list"),
        Prefetch("phones", PersonPhone.objects.order_by("-is_primary", "id"), to_attr="phone_list"),
        Prefetch(
            "taggings",
            Tagging.objects.select_related("tag").order_by("tag__name"),
            to_attr="tagging_list",
        ),
        Prefetch(
            "consents",
            ConsentState.objects.filter(purpose=DEFAULT_PURPOSE).select_related("record"),
            to_attr="consent_list",
        ),
    )
    for person in people:
        person.primary_email = next(iter(person.email_list), None)  # type: ignore[attr-defined]
        person.primary_phone = next(iter(person.phone_list), None)  # type: ignore[attr-defined]
        states = {s.channel: s for s in person.consent_list}  # type: ignore[attr-defined]
        person.consent_pairs = [  # type: ignore[attr-defined]
            (Channel.EMAIL.label, states.get(Channel.EMAIL)),
            (Channel.SMS.label, states.get(Channel.SMS)),
        ]
    return people


# --- The list ----------------------------------------------------------------


def count_people(organization: Any) -> int:
    """The organization's people, counted up to TOTAL_CAP + 1 (shown as "more than")."""
    return Person.objects.for_org(organization).order_by()[: TOTAL_CAP + 1].count()


def _render_list(
    request: HttpRequest, query: QueryDict, bulk_form: BulkTagForm | None = None
) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = PeopleFilterForm(query or None, organization=organization)
    valid = form.is_valid() if query else True
    rows, older, newer = keyset_page(
        filtered_people(organization, form), after=form.value("after"), before=form.value("before")
    )
    paged = form.value("after") or form.value("before")
    base = query.copy()
    for key in ("after", "before"):
        base.pop(key, None)
    selected = set(bulk_form["person"].value() or []) if bulk_form else set()
    context = {
        "form": form,
        "people": with_contacts(rows),
        "older": older,
        "newer": newer,
        "paged": paged,
        "query": base.urlencode(),
        "here": query.urlencode(),
        "can_edit": request.membership.can(Permission.EDIT_PEOPLE),  # type: ignore[attr-defined]
        "total": None if paged or form.is_filtered() else count_people(organization),
        "total_cap": TOTAL_CAP,
        "bulk_form": bulk_form or BulkTagForm(),
        "selected": {str(pk) for pk in selected},
    }
    status = 400 if not valid or (bulk_form and bulk_form.errors) else 200
    return render(request, "supporters/people_list.html", context, status=status)


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def people_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, request.GET)


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def tag_selected(request: HttpRequest) -> HttpResponse:
    """Bulk action of the list: tag the people ticked on the page."""
    organization = request.organization  # type: ignore[attr-defined]
    query = QueryDict(request.POST.get("query", ""))
    form = BulkTagForm(request.POST)
    if not form.is_valid():
        return _render_list(request, query, bulk_form=form)
    people = list(Person.objects.for_org(organization).filter(pk__in=form.cleaned_data["person"]))
    services.tag_people(actor=request.user, people=people, names=form.cleaned_data["tags"])
    messages.success(
        request,
        ngettext(
            "Tagged %(count)d person with %(tags)s.",
            "Tagged %(count)d people with %(tags)s.",
            len(people),
        )
        % {"tags": ", ".join(form.cleaned_data["tags"]), "count": len(people)},
    )
    url = reverse("supporters:people_list", args=[organization.slug])
    return redirect(f"{url}?{query.urlencode()}" if query else url)


# --- Adding and editing --------------------------------------------------------


def _new_person_data(request: HttpRequest, form: NewPersonForm) -> PersonData:
    data = form.cleaned_data
    grants = [
        ConsentGrant(
            channel=channel,
            wording=data["consent_wording"].strip(),
            source=ConsentSource.MANUAL,
            source_ref=f"user:{request.user.pk}",
            language=request.LANGUAGE_CODE,
        )
        for channel, key in ((Channel.EMAIL, "consent_email"), (Channel.SMS, "consent_sms"))
        if data[key]
    ]
    custom = {k: v for k, v in form.custom_values().items() if v not in ("", None)}
    return PersonData(
        email=data["email"],
        phone=data["phone"],
        tags=data["tags"],
        consents=grants,
        custom_fields=custom,
        **form.profile(),
    )


@organization_view(Permission.EDIT_PEOPLE)
def person_new(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = NewPersonForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        result = services.upsert_person(
            organization=organization,
            actor=request.user,
            data=_new_person_data(request, form),
            source=Source.MANUAL,
            source_ref=f"user:{request.user.pk}",
        )
        messages.success(request, _("Added."))
        return _detail(result.person)
    return render(
        request,
        "supporters/person_form.html",
        {"form": form, "existing": form.existing},
        status=400 if form.errors else 200,
    )


@organization_view(Permission.EDIT_PEOPLE)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    person = _person(request, pk)
    form = PersonForm(request.POST or None, organization=organization, person=person)
    if request.method == "POST" and form.is_valid():
        changed = services.update_person(
            actor=request.user,
            person=person,
            values=form.profile(),
            custom_fields=form.custom_values(),
        )
        messages.success(request, _("Saved.") if changed else _("Nothing changed."))
        return _detail(person)
    return render(
        request,
        "supporters/person_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


# --- One person ----------------------------------------------------------------


def _custom_values(person: Person) -> list[tuple[str, Any]]:
    labels = {
        f.key: f.label() for f in CustomField.objects.filter(organization_id=person.organization_id)
    }
    known = [
        (labels[key], person.custom_fields[key]) for key in labels if key in person.custom_fields
    ]
    other = [(key, v) for key, v in person.custom_fields.items() if key not in labels]
    return known + other


def _render_person(request: HttpRequest, person: Person, *, status: int = 200, **forms: Any) -> Any:
    organization = request.organization  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    context = {
        "person": person,
        "language_name": language_name(person.language),
        "emails": person.emails.order_by("-is_primary", "id"),
        "phones": person.phones.order_by("-is_primary", "id"),
        "taggings": person.taggings.select_related("tag").order_by("tag__name"),
        "consents": ConsentState.objects.filter(person=person)
        .select_related("record")
        .order_by("channel", "purpose"),
        "custom_values": _custom_values(person),
        "moments": timeline.timeline(person),
        "can_edit": membership.can(Permission.EDIT_PEOPLE),
        "can_erase": membership.can(Permission.ERASE_PEOPLE),
        "can_export": membership.can(Permission.EXPORT_PEOPLE),
        "contact_form": forms.get("contact_form") or ContactForm(),
        "tags_form": forms.get("tags_form") or AddTagsForm(),
        "consent_form": forms.get("consent_form") or ConsentForm(),
        "duplicate": forms.get("duplicate"),
        "tag_suggestions": Tag.objects.for_org(organization).values_list("name", flat=True)[
            :TAG_SUGGESTIONS
        ],
    }
    return render(request, "supporters/person_detail.html", context, status=status)


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_person(request, _person(request, pk))


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def person_tag(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = AddTagsForm(request.POST)
    if not form.is_valid():
        return _render_person(request, person, status=400, tags_form=form)
    services.tag_people(actor=request.user, people=[person], names=form.cleaned_data["tags"])
    messages.success(request, _("Tags added."))
    return _detail(person)


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def person_untag(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    tag = get_for_org_or_404(Tag, request.organization, pk=request.POST.get("tag"))  # type: ignore[attr-defined]
    services.untag_person(actor=request.user, person=person, tag=tag)
    messages.success(request, _("Tag %(tag)s removed.") % {"tag": tag.name})
    return _detail(person)


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def person_add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.add_contact(actor=request.user, person=person, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, _contact_error(error))
            duplicate = _owner_of(person, **form.cleaned_data)
            return _render_person(
                request, person, status=error.status, contact_form=form, duplicate=duplicate
            )
        messages.success(request, _("Contact added."))
        return _detail(person)
    return _render_person(request, person, status=400, contact_form=form)


def _contact_error(error: DomainError) -> str:
    messages_by_code = {
        "email_taken": _("Another person has this address: merge them."),
        "phone_taken": _("Another person has this number: merge them."),
        "invalid_email": _("This email address is not valid."),
        "invalid_phone": _("This phone number is not valid."),
    }
    return messages_by_code.get(error.code, _("This contact could not be added."))


def _owner_of(person: Person, email: str = "", phone: str = "") -> Person | None:
    """The other person who already has this address or number, to offer a merge."""
    address = normalize_email(email) if email else None
    number = normalize_phone(phone) if phone else None
    people = Person.objects.filter(organization_id=person.organization_id).exclude(pk=person.pk)
    if address and (owner := people.filter(emails__address=address).first()):
        return owner
    if number:
        return people.filter(phones__number=number.number).first()
    return None


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def person_remove_contact(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    if email_id := request.POST.get("email"):
        email = get_object_or_404(PersonEmail, person=person, pk=_int_or_404(email_id))
        services.remove_contact(actor=request.user, person=person, email_id=email.pk)
    elif phone_id := request.POST.get("phone"):
        phone = get_object_or_404(PersonPhone, person=person, pk=_int_or_404(phone_id))
        services.remove_contact(actor=request.user, person=person, phone_id=phone.pk)
    else:
        return _render_person(request, person, status=400)
    messages.success(request, _("Contact removed."))
    return _detail(person)


def _int_or_404(value: str) -> int:
    if not is_row_id(value):
        raise Http404
    return int(value)


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def person_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """A consent change the organizer heard of (by phone, on paper): appended to the ledger."""
    person = _person(request, pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _render_person(request, person, status=400, consent_form=form)
    grant = ConsentGrant(
        channel=form.cleaned_data["channel"],
        status=form.cleaned_data["status"],
        wording=form.cleaned_data["wording"].strip(),
        source=ConsentSource.MANUAL,
        source_ref=f"user:{request.user.pk}",
        language=request.LANGUAGE_CODE,
    )
    if record_consent(person=person, grant=grant, actor=request.user) is None:
        messages.info(request, _("Nothing changed: this is already their current choice."))
    else:
        messages.success(request, _("Consent recorded."))
    return _detail(person)


# --- Merge, erase, download ------------------------------------------------------


@organization_view(Permission.EDIT_PEOPLE)
@require_GET
def person_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the duplicate of this person, by the same search as the list."""
    organization = request.organization  # type: ignore[attr-defined]
    person = _person(request, pk)
    # A search only when there is one: `?lang=ar` alone is not a search.
    form = MergeSearchForm(request.GET if "q" in request.GET else None)
    candidates: list[Person] = []
    if form.is_valid():
        others = Person.objects.for_org(organization).exclude(pk=person.pk)
        found = search_people(organization, others, form.cleaned_data["q"].strip())
        candidates = with_contacts(list(found.order_by("-pk")[:MERGE_RESULTS]))
    return render(
        request,
        "supporters/person_merge.html",
        {"person": person, "form": form, "candidates": candidates, "searched": form.is_bound},
        status=400 if form.errors else 200,
    )


@organization_view(Permission.EDIT_PEOPLE)
def person_merge_confirm(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Both people side by side; the organizer picks the one whose record stays."""
    person, other = _person(request, pk), _person(request, other_pk)
    if person.pk == other.pk:
        raise DomainError("merge_invalid", _("A person cannot be merged with themselves."))
    form = MergeForm(request.POST or None, people=(person, other))
    if request.method == "POST" and form.is_valid():
        keep_person = form.cleaned_data["keep"] == person.pk
        kept, dropped = (person, other) if keep_person else (other, person)
        kept = services.merge_people(actor=request.user, kept=kept, other=dropped)
        messages.success(request, _("Merged: one person now holds both records."))
        return _detail(kept)
    return render(
        request,
        "supporters/person_merge.html",
        {"person": person, "other": other, "form": form, "sides": with_contacts([person, other])},
        status=400 if form.errors else 200,
    )


def erase_counts(person: Person) -> dict[str, int]:
    return {
        "emails": person.emails.count(),
        "phones": person.phones.count(),
        "tags": person.taggings.count(),
        "consent_records": person.consent_records.count(),
    }


@organization_view(Permission.ERASE_PEOPLE)
def person_erase(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    person = _person(request, pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        erased = services.erase_person(
            actor=request.user, person=person, reason=form.cleaned_data["reason"].strip()
        )
        messages.success(request, _("Person #%(id)d was erased.") % {"id": erased})
        return redirect("supporters:people_list", organization.slug)
    return render(
        request,
        "supporters/person_erase.html",
        {"person": person, "form": form, "counts": erase_counts(person)},
        status=400 if form.errors else 200,
    )


@organization_view(Permission.EXPORT_PEOPLE)
@mfa_session_required
@require_GET
@never_cache
def person_download(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    """Everything about one person, for their access request; each download is audited."""
    person = _person(request, pk)
    content_type, body = subject.export_person(actor=request.user, person=person, format=format)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.{format}"'
    return response


PREFIX = "manage/<slug:slug>/people/"

urlpatterns = [
    path(PREFIX, people_list, name="people_list"),
    path(PREFIX + "tag/", tag_selected, name="tag_selected"),
    path(PREFIX + "new/", person_new, name="person_new"),
    path(PREFIX + "<int:pk>/", person_detail, name="person_detail"),
    path(PREFIX + "<int:pk>/edit/", person_edit, name="person_edit"),
    path(PREFIX + "<int:pk>/tags/", person_tag, name="person_tag"),
    path(PREFIX + "<int:pk>/tags/remove/", person_untag, name="person_untag"),
    path(PREFIX + "<int:pk>/contacts/", person_add_contact, name="person_add_contact"),
    path(PREFIX + "<int:pk>/contacts/remove/", person_remove_contact, name="person_remove_contact"),
    path(PREFIX + "<int:pk>/consent/", person_consent, name="person_consent"),
    path(PREFIX + "<int:pk>/merge/", person_merge, name="person_merge"),
    path(
        PREFIX + "<int:pk>/merge/<int:other_pk>/", person_merge_confirm, name="person_merge_confirm"
    ),
    path(PREFIX + "<int:pk>/erase/", person_erase, name="person_erase"),
    path(
        PREFIX + "<int:pk>/data.json", person_download, {"format": "json"}, name="person_data_json"
    ),
    path(PREFIX + "<int:pk>/data.csv", person_download, {"format": "csv"}, name="person_data_csv"),
]
