"""Autopay: ACH debit authorisations, the daily collection run that posts
the debits and writes the NACHA file, and the import of ACH returns.

The ACH origin (who sends the file) comes from settings or the environment:
ACH_ODFI_ROUTING, ACH_DESTINATION_ROUTING, ACH_DESTINATION_NAME,
ACH_ORIGIN_NAME, ACH_COMPANY_NAME, ACH_COMPANY_ID. Collection refuses to run
until they are set (an integration is off until configured).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.audit import actor_of
from core.businessdate import get_business_date
from core.crypto import decrypt, encrypt
from core.exceptions import Conflict, DomainError, ValidationFailed
from core.models import AuditCategory
from core.money import format_money
from rails import nacha
from rails.ach import ach_origin, ach_setting
from servicing.models import (
    AchBatchFile,
    AchEntry,
    AutopayAuthorization,
    ImportRun,
    Installment,
    Loan,
    LoanState,
    Payment,
)
from servicing.services.imports import report_rows
from servicing.services.locks import lock_loan
from servicing.services.payments import post_payment, reverse_payment
from servicing.validators import validate_bank_account

# The versions of the authorisation wording a borrower may agree to. A new
# wording is a new key; old keys stay so past authorisations still resolve.
AUTHORIZATION_TEXTS = {
    "2026-01": (
        "I authorize {company} to initiate a recurring ACH debit from the {account_type} "
        "account ending {last4} at the financial institution with routing number {routing} "
        "for {amount} on each due date of loan {loan_number}, and, if a debit is returned, "
        "to debit the account again for the same amount. This authorization stays in effect "
        "until I cancel it by telling {company} at least three business days before a due "
        "date. I understand that a returned payment may incur a fee under my loan agreement."
    ),
}
CURRENT_AUTHORIZATION_VERSION = "2026-01"
FILE_ID_MODIFIERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def authorization_text(
    *, version: str, loan: Loan, routing: str, last4: str, account_type: str, amount: str
) -> str:
    company = ach_setting("ACH_COMPANY_NAME") or getattr(settings, "PLATFORM_NAME", "the lender")
    return AUTHORIZATION_TEXTS[version].format(
        company=company,
        account_type=account_type,
        last4=last4,
        routing=routing,
        amount=amount,
        loan_number=loan.loan_number,
    )


def set_up_autopay(
    *,
    loan: Loan,
    routing: str,
    account: str,
    account_type: str,
    authorization_text_version: str,
    ip_address: str | None,
    user_agent: str,
    channel: str,
    fixed_amount: Decimal | None = None,
    acting_user=None,
) -> AutopayAuthorization:
    """Record a debit authorisation for `loan`, replacing (revoking) any
    active one. Locks the loan. Raises ValidationFailed for a bad routing or
    account number, unknown text version or channel; Conflict if the loan is
    not active."""
    routing = (routing or "").strip()
    account = (account or "").replace(" ", "").replace("-", "")
    errors = validate_bank_account(routing=routing, account=account, account_type=account_type)
    if authorization_text_version not in AUTHORIZATION_TEXTS:
        errors["authorization_text_version"] = ["Unknown authorisation text version."]
    if channel not in AutopayAuthorization.Channel.values:
        errors["channel"] = ["Choose staff or portal."]
    if fixed_amount is not None and (
        fixed_amount <= 0 or fixed_amount != fixed_amount.quantize(Decimal("0.01"))
    ):
        errors["fixed_amount"] = ["Enter an amount in whole cents greater than zero."]
    if errors:
        raise ValidationFailed("The autopay authorisation is not valid.", fields=errors)
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        if loan.state != LoanState.ACTIVE:
            raise Conflict(
                f"Loan {loan.loan_number} is {loan.get_state_display().lower()}; "
                "autopay needs an active loan.",
                code="loan_not_active",
            )
        previous = AutopayAuthorization.objects.filter(loan=loan, active=True).first()
        now = timezone.now()
        if previous is not None:
            _revoke(previous, now=now, reason="Replaced by a new authorisation", user=acting_user)
        auth = AutopayAuthorization.objects.create(
            loan=loan,
            routing_number=routing,
            account_number_encrypted=encrypt(account),
            account_last4=account[-4:],
            account_type=account_type,
            amount_rule="fixed" if fixed_amount is not None else "scheduled",
            fixed_amount=fixed_amount,
            authorization_text_version=authorization_text_version,
            authorized_at=now,
            channel=channel,
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:300],
            created_by=actor_of(acting_user),
        )
        audit.record(
            action="autopay.authorized",
            category=AuditCategory.CREATE,
            obj=loan,
            metadata={
                "authorization_id": auth.pk,
                "routing_number": routing,
                "account_last4": auth.account_last4,
                "account_type": account_type,
                "amount_rule": auth.amount_rule,
                "fixed_amount": str(fixed_amount) if fixed_amount is not None else None,
                "text_version": authorization_text_version,
                "channel": channel,
                "replaced": previous.pk if previous else None,
            },
            actor=acting_user,
        )
    return auth


def _revoke(auth: AutopayAuthorization, *, now: datetime, reason: str, user) -> None:
    auth.active = False
    auth.revoked_at = now
    auth.revoked_reason = reason[:200]
    auth.revoked_by = actor_of(user)
    auth.save(update_fields=["active", "revoked_at", "revoked_reason", "revoked_by", "updated_at"])


def cancel_autopay(
    *, loan: Loan, reason: str = "", acting_user=None
) -> AutopayAuthorization | None:
    """Revoke the loan's active authorisation (None if there was none).
    Debits already in a file are not recalled; later due dates are not
    collected."""
    with transaction.atomic():
        loan = lock_loan(loan.pk)
        auth = (
            AutopayAuthorization.objects.select_for_update().filter(loan=loan, active=True).first()
        )
        if auth is None:
            return None
        _revoke(auth, now=timezone.now(), reason=reason or "Cancelled", user=acting_user)
        audit.record(
            action="autopay.cancelled",
            category=AuditCategory.STATE_CHANGE,
            obj=loan,
            changes={"autopay.active": [True, False]},
            metadata={"authorization_id": auth.pk, "reason": auth.revoked_reason},
            actor=acting_user,
        )
    return auth


@dataclass
class CollectionResult:
    business_date: date
    posted: list[AchEntry] = field(default_factory=list)
    already: int = 0
    skipped: list[dict] = field(default_factory=list)
    file: AchBatchFile | None = None


def due_authorizations(business_date: date) -> list[tuple[AutopayAuthorization, Decimal]]:
    """Active authorisations whose loan has an instalment due on
    `business_date`, with the amount to debit (the instalment's unpaid part
    or the fixed amount), oldest loan first."""
    rows = (
        Installment.objects.filter(
            due_date=business_date,
            loan__state=LoanState.ACTIVE,
            loan__autopay_authorizations__active=True,
        )
        .annotate(
            unpaid=F("principal_due")
            + F("interest_due")
            + F("fees_due")
            + F("penalties_due")
            - F("principal_paid")
            - F("interest_paid")
            - F("fees_paid")
            - F("penalties_paid")
        )
        .filter(unpaid__gt=0)
        .values_list("loan_id", "unpaid")
    )
    unpaid = dict(rows)
    auths = AutopayAuthorization.objects.filter(loan_id__in=unpaid, active=True).select_related(
        "loan"
    )
    out = []
    for auth in sorted(auths, key=lambda a: a.loan_id):
        amount = auth.fixed_amount if auth.amount_rule == "fixed" else unpaid[auth.loan_id]
        out.append((auth, amount))
    return out


def collect_autopay(*, business_date: date, acting_user=None) -> CollectionResult:
    """Post the day's autopay debits and write them to one NACHA file.

    For each active authorisation with an instalment due on `business_date`
    and unpaid, posts a payment (channel autopay, method ACH, received on
    the business date, idempotency key "autopay:<auth>:<date>") and records
    an AchEntry; the entries not yet in a file go into a new AchBatchFile.
    Re-running the day posts nothing and writes no file. A loan that refuses
    the payment (e.g. frozen) is skipped and reported; the others go on.
    Raises Conflict if ACH is not configured (before writing anything)."""
    origin = ach_origin()
    result = CollectionResult(business_date=business_date)
    with transaction.atomic():
        for auth, amount in due_authorizations(business_date):
            if AchEntry.objects.filter(authorization=auth, collection_date=business_date).exists():
                result.already += 1
                continue
            try:
                with transaction.atomic():
                    paid = post_payment(
                        loan=auth.loan,
                        amount=amount,
                        received_on=business_date,
                        method=Payment.Method.ACH,
                        channel=Payment.Channel.AUTOPAY,
                        reference=f"autopay {auth.pk}",
                        idempotency_key=f"autopay:{auth.pk}:{business_date.isoformat()}",
                        acting_user=acting_user,
                    )
                    entry = AchEntry.objects.create(
                        authorization=auth,
                        payment=paid.payment,
                        collection_date=business_date,
                        amount=paid.payment.amount,
                    )
                    entry.trace_number = nacha.trace_number(
                        origin.odfi_routing, (entry.pk - 1) % 9_999_999 + 1
                    )
                    entry.save(update_fields=["trace_number"])
            except DomainError as exc:
                result.skipped.append(
                    {"loan": auth.loan.loan_number, "code": exc.code, "message": exc.message}
                )
                continue
            result.posted.append(entry)
        unfiled = list(
            AchEntry.objects.filter(collection_date=business_date, file__isnull=True)
            .select_related("authorization__loan__customer")
            .order_by("id")
        )
        if unfiled:
            result.file = _write_file(origin, business_date, unfiled, acting_user)
        audit.record(
            action="autopay.collected",
            category=AuditCategory.MONEY,
            object_type="servicing.achbatchfile",
            object_id=str(result.file.pk) if result.file else business_date.isoformat(),
            metadata={
                "business_date": business_date.isoformat(),
                "posted": len(result.posted),
                "already": result.already,
                "skipped": result.skipped,
                "file_id": result.file.pk if result.file else None,
            },
            actor=acting_user,
        )
    return result


def _write_file(origin, business_date: date, entries: list[AchEntry], user) -> AchBatchFile:
    used = set(
        AchBatchFile.objects.filter(file_date=business_date).values_list(
            "file_id_modifier", flat=True
        )
    )
    modifier = next((m for m in FILE_ID_MODIFIERS if m not in used), None)
    if modifier is None:
        raise Conflict(f"All 36 files of {business_date} are used.", code="ach_file_limit")
    content = nacha.build_ppd_debit_file(
        origin=origin,
        entries=[
            nacha.DebitEntry(
                individual_id=e.authorization.loan.loan_number,
                individual_name=e.authorization.loan.customer.legal_name,
                routing=e.authorization.routing_number,
                account=decrypt(e.authorization.account_number_encrypted),
                account_type=e.authorization.account_type,
                amount_cents=int(e.amount * 100),
                trace_seq=int(e.trace_number[8:]),
            )
            for e in entries
        ],
        created_at=timezone.localtime(),
        effective_date=business_date,
        file_id_modifier=modifier,
    )
    batch = AchBatchFile.objects.create(
        file_date=business_date,
        file_id_modifier=modifier,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        entry_count=len(entries),
        total_amount=sum((e.amount for e in entries), Decimal("0.00")),
        created_by=actor_of(user),
    )
    AchEntry.objects.filter(pk__in=[e.pk for e in entries]).update(file=batch)
    return batch


@dataclass
class ReturnsResult:
    run: ImportRun
    reversed: list[dict]
    already: list[dict]
    unmatched: list[dict]
    rejected: list[dict]


def import_ach_returns(*, text: str, filename: str = "", acting_user=None) -> ReturnsResult:
    """Reverse the payments an ACH return file names (reason "ach_return",
    which assesses the product's NSF fee) and mark their entries returned.

    Idempotent: an entry already returned is reported as "already" and not
    reversed again. Traces we never sent are reported as unmatched; a return
    whose amount differs from the entry's is rejected. Raises
    ValidationFailed (writing nothing) if the file is not a NACHA file."""
    try:
        returns = nacha.parse_returns(text)
    except nacha.NachaError as exc:
        raise ValidationFailed(
            "The file is not a valid ACH return file.", fields={"file": [str(exc)]}
        ) from exc
    today = get_business_date()
    reversed_, already, unmatched, rejected = [], [], [], []
    with transaction.atomic():
        entries = {
            e.trace_number: e
            for e in AchEntry.objects.filter(
                trace_number__in=[r.trace_number for r in returns]
            ).select_related("payment", "authorization__loan")
        }
        for r in returns:
            row = {
                "line": r.line_number,
                "trace_number": r.trace_number,
                "return_code": r.return_code,
                "amount": str(r.amount),
            }
            entry = entries.get(r.trace_number)
            if entry is None:
                unmatched.append({**row, "reason": "No debit we sent has this trace number."})
                continue
            row["loan"] = entry.authorization.loan.loan_number
            if entry.status == AchEntry.Status.RETURNED:
                already.append({**row, "reason": "Already returned."})
                continue
            if entry.amount != r.amount:
                rejected.append(
                    {
                        **row,
                        "reason": f"The return is for {format_money(r.amount)}; "
                        f"we debited {format_money(entry.amount)}.",
                    }
                )
                continue
            try:
                with transaction.atomic():
                    reverse_payment(
                        payment=entry.payment,
                        reason=Payment.ReversalReason.ACH_RETURN,
                        acting_user=acting_user,
                        note=f"ACH return {r.return_code}",
                    )
                    entry.status = AchEntry.Status.RETURNED
                    entry.return_code = r.return_code
                    entry.returned_on = today
                    entry.save(update_fields=["status", "return_code", "returned_on"])
            except DomainError as exc:
                rejected.append({**row, "reason": exc.message})
                continue
            reversed_.append(row)
        run = ImportRun.objects.create(
            kind=ImportRun.Kind.ACH_RETURNS,
            filename=filename[:200],
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            rows=len(returns),
            accepted=len(reversed_),
            duplicates=len(already),
            rejected=len(rejected) + len(unmatched),
            report={
                "accepted": report_rows(reversed_),
                "duplicates": report_rows(already),
                "rejected": report_rows(sorted(rejected + unmatched, key=lambda r: r["line"])),
            },
            created_by=actor_of(acting_user),
        )
        audit.record(
            action="import.ach_returns",
            category=AuditCategory.MONEY,
            obj=run,
            metadata={
                "reversed": len(reversed_),
                "already": len(already),
                "unmatched": len(unmatched),
                "rejected": len(rejected),
            },
            actor=acting_user,
        )
    return ReturnsResult(
        run=run, reversed=reversed_, already=already, unmatched=unmatched, rejected=rejected
    )
