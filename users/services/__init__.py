"""Every write of the users app: staff accounts and roles, passwords,
two-factor devices, API keys, and the audit trail of signing in.

Each function takes keyword-only arguments, runs in one transaction and
writes its audit event inside it, so the event commits or rolls back with
the change. Permission checks stay in the views (users.access); rules that
hold whoever calls (no self-demotion, known roles and scopes, password
strength) are enforced here. Callers use `from users import services`.
"""

from users.services.api_keys import create_api_key, revoke_api_key
from users.services.sign_in import (
    record_sign_in,
    record_sign_in_refused,
    record_sign_out,
    record_two_factor_passed,
    send_set_password_email,
    set_password,
)
from users.services.staff import (
    change_role,
    create_staff_user,
    reset_two_factor,
    set_active,
    unlock_user,
    update_staff_details,
)
from users.services.two_factor import (
    BACKUP_CODE_COUNT,
    SecondFactorResult,
    confirm_totp_device,
    disable_two_factor,
    normalise_token,
    regenerate_backup_codes,
    start_totp_enrolment,
    verify_second_factor,
)

__all__ = [
    "BACKUP_CODE_COUNT",
    "SecondFactorResult",
    "change_role",
    "confirm_totp_device",
    "create_api_key",
    "create_staff_user",
    "disable_two_factor",
    "normalise_token",
    "record_sign_in",
    "record_sign_in_refused",
    "record_sign_out",
    "record_two_factor_passed",
    "regenerate_backup_codes",
    "reset_two_factor",
    "revoke_api_key",
    "send_set_password_email",
    "set_active",
    "set_password",
    "start_totp_enrolment",
    "unlock_user",
    "update_staff_details",
    "verify_second_factor",
]
