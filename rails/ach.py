"""The platform's ACH originator, read from the ACH_* settings (shared by
servicing's autopay debits and origination's disbursement credits)."""

import os

from django.conf import settings

from core.exceptions import Conflict
from rails import nacha

ORIGIN_SETTINGS = {
    "destination_routing": "ACH_DESTINATION_ROUTING",
    "destination_name": "ACH_DESTINATION_NAME",
    "odfi_routing": "ACH_ODFI_ROUTING",
    "origin_name": "ACH_ORIGIN_NAME",
    "company_name": "ACH_COMPANY_NAME",
    "company_id": "ACH_COMPANY_ID",
}


def ach_setting(name: str) -> str:
    """One ACH_* value from settings (or the environment), stripped; "" if unset."""
    return str(getattr(settings, name, None) or os.environ.get(name) or "").strip()


def ach_origin() -> nacha.Origin:
    """The configured ACH origin; Conflict("ach_not_configured") when a
    setting is missing or a routing number fails its checksum."""
    values = {key: ach_setting(name) for key, name in ORIGIN_SETTINGS.items()}
    missing = [ORIGIN_SETTINGS[k] for k, v in values.items() if not v]
    if missing:
        raise Conflict(
            f"ACH is not configured: set {', '.join(missing)}.", code="ach_not_configured"
        )
    for key in ("destination_routing", "odfi_routing"):
        if not nacha.is_valid_routing(values[key]):
            raise Conflict(
                f"{ORIGIN_SETTINGS[key]} is not a valid routing number.",
                code="ach_not_configured",
            )
    return nacha.Origin(**values)
