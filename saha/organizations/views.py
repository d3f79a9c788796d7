from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saha.accounts.adapter import INVITATION_SESSION_KEY
from saha.core.models import AuditEntry
from saha.core.tenancy import get_for_org_or_404
from saha.organizations import services
from saha.organizations.access import LAST_ORGANIZATION_KEY, organization_view
from saha.organizations.forms import (
    AuditFilterForm,
    InviteForm,
    NewOrganizationForm,
    OrganizationSettingsForm,
    RoleForm,
)
from saha.organizations.models import Invitation, Membership
from saha.organizations.roles import Permission, role_table

AUDIT_PAGE_SIZE = 50


def can_create_organization(user: object) -> bool:
    return bool(getattr(user, "is_staff", False) or settings.SAHA_OPEN_SIGNUP)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The organizer's home: straight to the organization they used last, or a choice."""
    memberships = list(Membership.objects.of_user(request.user))
    last = request.session.get(LAST_ORGANIZATION_KEY)
    chosen = next((m for m in memberships if m.organization.slug == last), None)
    if chosen is None and len(memberships) == 1:
        chosen = memberships[0]
    if chosen is not None and "choose" not in request.GET:
        return redirect("organizations:dashboard", slug=chosen.organization.slug)
    return render(
        request,
        "organizations/home.html",
        {
            "memberships": memberships,
            "can_create": can_create_organization(request.user),
        },
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not can_create_organization(request.user):
        raise PermissionDenied
    form = NewOrganizationForm(
        request.POST or None,
        initial={
            "default_language": request.LANGUAGE_CODE,
            "time_zone": settings.TIME_ZONE,
        },
    )
    if request.method == "POST" and form.is_valid():
        organization = services.create_organization(
            actor=request.user,
            slug=form.cleaned_data["slug"],
            names=form.names(),
            default_language=form.cleaned_data["default_language"],
            time_zone=form.cleaned_data["time_zone"],
            logo=form.cleaned_data.get("logo"),
        )
        messages.success(request, _("%(name)s is ready.") % {"name": organization.name})
        return redirect("organizations:dashboard", slug=organization.slug)
    return render(request, "organizations/create.html", {"form": form})


@organization_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    context = {
        "member_count": Membership.objects.for_org(organization).count(),
        "pending_invitations": Invitation.objects.for_org(organization).pending().count(),
        "recent_audit": (
            AuditEntry.objects.for_org(organization)[:8]
            if membership.can(Permission.VIEW_AUDIT)
            else None
        ),
    }
    return render(request, "organizations/dashboard.html", context)


@organization_view(Permission.MANAGE_ORGANIZATION)
def settings_view(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = OrganizationSettingsForm(
        request.POST or None,
        request.FILES or None,
        initial=OrganizationSettingsForm.initial_for(organization),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.update_organization(
            actor=request.user,
            organization=organization,
            names=form.names(),
            about=form.about(),
            default_language=data["default_language"],
            time_zone=data["time_zone"],
            contact_email=data["contact_email"],
            require_mfa=data["require_mfa"],
            logo=data.get("logo") or None,
            clear_logo=data["clear_logo"],
        )
        messages.success(request, _("Settings saved."))
        return redirect("organizations:settings", slug=organization.slug)
    return render(request, "organizations/settings.html", {"form": form})


@organization_view(Permission.MANAGE_MEMBERS)
def members(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    form = InviteForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        invitation, _token = services.invite_member(
            actor_membership=membership,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            language=request.LANGUAGE_CODE,
        )
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
        return redirect("organizations:members", slug=organization.slug)
    return render(
        request,
        "organizations/members.html",
        {
            "form": form,
            "members": Membership.objects.for_org(organization)
            .select_related("user")
            .order_by("user__email"),
            "invitations": Invitation.objects.for_org(organization)
            .pending()
            .select_related("invited_by"),
            "role_form": RoleForm(membership=membership),
            "role_table": role_table(),
            "can_manage_owners": membership.can(Permission.MANAGE_OWNERS),
        },
    )


@organization_view(Permission.MANAGE_MEMBERS)
@require_POST
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    target = get_for_org_or_404(Membership.objects.select_related("user"), organization, pk=pk)
    form = RoleForm(request.POST, membership=request.membership)  # type: ignore[attr-defined]
    if form.is_valid():
        services.change_role(
            actor_membership=request.membership,  # type: ignore[attr-defined]
            membership=target,
            role=form.cleaned_data["role"],
        )
        messages.success(request, _("Role changed."))
    else:
        messages.error(request, _("Choose a role from the list."))
    return redirect("organizations:members", slug=organization.slug)


@organization_view(Permission.VIEW_DASHBOARD)
@require_POST
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    target = get_for_org_or_404(Membership.objects.select_related("user"), organization, pk=pk)
    leaving = target.pk == request.membership.pk  # type: ignore[attr-defined]
    services.remove_member(
        actor_membership=request.membership,  # type: ignore[attr-defined]
        membership=target,
    )
    if leaving:
        request.session.pop(LAST_ORGANIZATION_KEY, None)
        messages.success(request, _("You left %(name)s.") % {"name": organization.name})
        return redirect("organizations:home")
    messages.success(request, _("%(user)s was removed.") % {"user": target.user})
    return redirect("organizations:members", slug=organization.slug)


@organization_view(Permission.MANAGE_MEMBERS)
@require_POST
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    invitation = get_for_org_or_404(Invitation, organization, pk=pk)
    services.revoke_invitation(
        actor_membership=request.membership,  # type: ignore[attr-defined]
        invitation=invitation,
    )
    messages.success(request, _("Invitation withdrawn."))
    return redirect("organizations:members", slug=organization.slug)


@organization_view(Permission.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET or None, organization=organization)
    entries = AuditEntry.objects.for_org(organization).select_related("actor")
    entries = entries.matching(**form.filters()) if form.is_valid() else entries.order_by("-id")
    page = list(entries[: AUDIT_PAGE_SIZE + 1])
    older = page[AUDIT_PAGE_SIZE - 1].pk if len(page) > AUDIT_PAGE_SIZE else None
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "organizations/audit.html",
        {
            "form": form,
            "entries": page[:AUDIT_PAGE_SIZE],
            "older": older,
            "query": query.urlencode(),
        },
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email: keep the token in the session, drop it from the URL.

    What follows happens at a URL without the secret, so it does not linger in
    the browser's history, in Referer headers or in a proxy's access log.
    """
    if services.invitation_for_token(token) is None:
        request.session.pop(INVITATION_SESSION_KEY, None)
        return render(request, "organizations/invitation_invalid.html", status=404)
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("organizations:invitation_accept")


def accept_invitation(request: HttpRequest) -> HttpResponse:
    """Sign in or sign up with the invited address, then accept."""
    token = request.session.get(INVITATION_SESSION_KEY, "")
    pending = services.invitation_for_token(token) if token else None
    if pending is None:
        request.session.pop(INVITATION_SESSION_KEY, None)
        return render(request, "organizations/invitation_invalid.html", status=404)
    if request.method == "POST" and request.user.is_authenticated:
        membership = services.accept_invitation(user=request.user, token=token)
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, _("Welcome to %(name)s.") % {"name": membership.organization})
        return redirect("organizations:dashboard", slug=membership.organization.slug)
    return render(
        request,
        "organizations/invitation.html",
        {
            "invitation": pending,
            "holds_address": request.user.is_authenticated
            and services.holds_address(request.user, pending.email),
        },
    )
