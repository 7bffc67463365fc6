"""Celery tasks of origination: load by id, call one service."""

from celery import shared_task

from origination.services.adverse_action import DELIVER_TASK, deliver_notice


@shared_task(
    name=DELIVER_TASK,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_adverse_action_notice_task(document_id: int) -> dict:
    """Render (once) and e-mail (once) the adverse action notice queued by an
    automatic decline after it committed. Re-running is a no-op."""
    return deliver_notice(document_id)
