"""The configured credit bureau adapter, and the audited read of a stored
credit bureau report.

The report a bureau sends (the subject's identity, every account, balance,
payment history and inquiry) is stored encrypted (BureauPull.raw_encrypted);
pages and notices use the parsed summary beside it. Underwriting roles
(origination.reveal_bureau_report) may open the full report: every opening
is a "sensitive_read" audit event, written before the token is decrypted.
"""

from importlib import import_module

from django.conf import settings
from django.db import transaction

from core import audit
from core.exceptions import NotFound, PermissionDenied
from core.models import AuditCategory
from origination.decisioning.bureau import CreditReport, parse_report
from origination.models import BureauPull, bureau_report_of

REVEAL_REPORT_PERMISSION = "origination.reveal_bureau_report"


def bureau_adapter():
    """An instance of settings.BUREAU_ADAPTER (a dotted class path)."""
    path = getattr(settings, "BUREAU_ADAPTER", "origination.decisioning.simulated.SimulatedBureau")
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)()


def reveal_bureau_report(
    *, pull: BureauPull, acting_user, reason: str = ""
) -> tuple[dict, CreditReport | None]:
    """The pull's raw report and, for a report that parses, its CreditReport.

    Refused with PermissionDenied unless `acting_user` holds
    origination.reveal_bureau_report; NotFound when the pull stored no
    report (the bureau was unavailable). The audit event (on the
    application, naming the pull, bureau and customer) is committed before
    decryption unless the caller holds an outer transaction.
    """
    if acting_user is None or not acting_user.has_perm(REVEAL_REPORT_PERMISSION):
        raise PermissionDenied(
            "Your role may not see full credit reports.", code="reveal_not_allowed"
        )
    if not pull.raw_encrypted or pull.status == BureauPull.Status.UNAVAILABLE:
        raise NotFound("This pull holds no credit report.", code="no_bureau_report")
    with transaction.atomic():
        audit.record(
            action="application.bureau_report_revealed",
            category=AuditCategory.SENSITIVE_READ,
            object_type="origination.application",
            object_id=str(pull.application_id),
            metadata={
                "bureau_pull": pull.pk,
                "bureau": pull.bureau,
                "customer": pull.customer_id,
                **({"reason": reason} if reason else {}),
            },
            actor=acting_user,
        )
    raw = bureau_report_of(pull)
    try:
        report = parse_report(raw)
    except ValueError:
        report = None
    return raw, report
