"""Every write of volunteers, in one place for callers: capabilities, offers, needs and
shifts, assignments (invite, respond, assign, release, sign up) and attendance.

The work lives in smaller modules (`capabilities`, `offers`, `needs`,
`assignments`, with the counters of coverage in `places`); this module is the
contract other code imports from.
"""

from __future__ import annotations

from saha.volunteers.assignments import (
    assign,
    invite,
    record_attendance,
    release,
    respond,
    sign_up_for_need,
    sign_up_for_shift,
)
from saha.volunteers.capabilities import (
    active_capabilities,
    add_capability,
    ensure_capabilities,
    update_capability,
)
from saha.volunteers.needs import (
    add_shift,
    close_need,
    create_need,
    remove_shift,
    reopen_need,
    update_need,
)
from saha.volunteers.offers import (
    AvailabilityWindow,
    fold_locality,
    submit_offer,
    update_offer,
    withdraw_offer,
)

__all__ = [
    "AvailabilityWindow",
    "active_capabilities",
    "add_capability",
    "add_shift",
    "assign",
    "close_need",
    "create_need",
    "ensure_capabilities",
    "fold_locality",
    "invite",
    "record_attendance",
    "release",
    "remove_shift",
    "reopen_need",
    "respond",
    "sign_up_for_need",
    "sign_up_for_shift",
    "submit_offer",
    "update_capability",
    "update_need",
    "update_offer",
    "withdraw_offer",
]
