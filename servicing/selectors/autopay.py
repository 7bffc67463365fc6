"""Autopay reads: a loan's authorisations and the NACHA files of autopay
debits. Nothing here writes."""

from django.db.models import QuerySet

from core.exceptions import NotFound
from servicing.models import AchBatchFile, AutopayAuthorization, Loan


def active_autopay(loan: Loan) -> AutopayAuthorization | None:
    """The loan's active ACH debit authorisation, or None."""
    return AutopayAuthorization.objects.filter(loan=loan, active=True).first()


def has_active_autopay(loan: Loan) -> bool:
    return AutopayAuthorization.objects.filter(loan=loan, active=True).exists()


def autopay_history(loan: Loan, *, limit: int = 20) -> QuerySet[AutopayAuthorization]:
    """The loan's ended authorisations, latest first."""
    return loan.autopay_authorizations.exclude(active=True)[:limit]


def ach_batch_files() -> QuerySet[AchBatchFile]:
    """Every NACHA file (newest first) with its maker, without its content."""
    return AchBatchFile.objects.defer("content").select_related("created_by")


def get_ach_file(pk: int) -> AchBatchFile:
    """NACHA file `pk` with its content; NotFound if none."""
    batch = AchBatchFile.objects.filter(pk=pk).first()
    if batch is None:
        raise NotFound(f"No ACH file {pk}.")
    return batch
