"""Roles and what each may do: the one place where this is decided.

Views ask `membership.can(Permission.X)`; nothing else compares role names.
Later apps add their permissions here, so a reviewer sees every grant at once.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    ORGANIZER = "organizer", _("Organizer")
    MESSENGER = "messenger", _("Messenger")
    DATA_STEWARD = "data_steward", _("Data steward")
    CHECKIN_STAFF = "checkin_staff", _("Check-in staff")
    VOLUNTEER_COORDINATOR = "volunteer_coordinator", _("Volunteer coordinator")
    VIEWER = "viewer", _("Viewer")


class Permission(models.TextChoices):
    VIEW_DASHBOARD = "dashboard.view", _("See the organization's dashboard")
    MANAGE_ORGANIZATION = "organization.manage", _("Change the organization's settings")
    MANAGE_MEMBERS = "members.manage", _("Invite members and change their roles")
    MANAGE_OWNERS = "owners.manage", _("Make or remove owners")
    VIEW_AUDIT = "audit.view", _("Read the audit log")
    VIEW_PEOPLE = "people.view", _("See supporters")
    EDIT_PEOPLE = "people.edit", _("Add and edit supporters")
    EXPORT_PEOPLE = "people.export", _("Export supporters")
    ERASE_PEOPLE = "people.erase", _("Erase supporters")
    SEND_MESSAGES = "messages.send", _("Send emails and text messages")
    MANAGE_CONTENT = "content.manage", _("Publish statements, campaigns, events and petitions")
    CHECK_IN = "checkin.scan", _("Check people in at the gate")
    MANAGE_VOLUNTEERS = "volunteers.manage", _("Match volunteers to needs")
    MANAGE_API = "api.manage", _("Manage API tokens and webhooks")


P = Permission
_EVERYTHING = frozenset(Permission)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OWNER: _EVERYTHING,
    Role.ADMIN: _EVERYTHING - {P.MANAGE_OWNERS},
    Role.ORGANIZER: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PEOPLE,
            P.EDIT_PEOPLE,
            P.MANAGE_CONTENT,
            P.CHECK_IN,
            P.MANAGE_VOLUNTEERS,
        }
    ),
    Role.MESSENGER: frozenset({P.VIEW_DASHBOARD, P.VIEW_PEOPLE, P.SEND_MESSAGES}),
    Role.DATA_STEWARD: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PEOPLE,
            P.EDIT_PEOPLE,
            P.EXPORT_PEOPLE,
            P.ERASE_PEOPLE,
            P.VIEW_AUDIT,
        }
    ),
    Role.CHECKIN_STAFF: frozenset({P.VIEW_DASHBOARD, P.CHECK_IN}),
    Role.VOLUNTEER_COORDINATOR: frozenset({P.VIEW_DASHBOARD, P.VIEW_PEOPLE, P.MANAGE_VOLUNTEERS}),
    Role.VIEWER: frozenset({P.VIEW_DASHBOARD}),
}


def permissions_for(role: str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def role_table() -> list[tuple[str, list[str]]]:
    """Each role's label with the labels of what it may do, for the members page."""
    return [
        (str(role.label), [str(p.label) for p in Permission if p in ROLE_PERMISSIONS[role]])
        for role in Role
    ]
