"""Views of the users app. Interfaces only: parse input, call one service
(users.services) or read, render. Routed by users/urls.py, except
`landing` and `staff_home`, which lending/urls.py routes."""

from users.views.account import (
    StaffPasswordChangeView,
    otp_backup_codes,
    otp_setup,
    portal_reset,
    staff_reset,
)
from users.views.administration import (
    api_key_create,
    api_key_revoke,
    api_keys,
    staff_create,
    staff_edit,
    staff_list,
)
from users.views.sign_in import (
    landing,
    otp_verify,
    portal_login,
    portal_logout,
    staff_home,
    staff_login,
    staff_logout,
)

__all__ = [
    "StaffPasswordChangeView",
    "api_key_create",
    "api_key_revoke",
    "api_keys",
    "landing",
    "otp_backup_codes",
    "otp_setup",
    "otp_verify",
    "portal_login",
    "portal_logout",
    "portal_reset",
    "staff_create",
    "staff_edit",
    "staff_home",
    "staff_list",
    "staff_login",
    "staff_logout",
    "staff_reset",
]
