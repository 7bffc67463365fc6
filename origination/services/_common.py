"""Shared helpers of the origination services: locking an application,
running one state transition with its timeline event and audit event."""

from django_fsm import can_proceed

from core import audit
from core.audit import actor_of
from core.exceptions import Conflict, PermissionDenied
from core.models import AuditCategory
from origination.models import Application, ApplicationEvent

# How each transition reads in a refusal message.
ACTION_LABELS = {
    "submit": "submit",
    "refer": "refer to underwriting",
    "return_for_info": "return for information",
    "approve": "approve",
    "approve_conditionally": "approve conditionally",
    "decline": "decline",
    "accept_offer": "accept the offer of",
    "sign": "sign",
    "disburse": "disburse",
    "withdraw": "withdraw",
    "expire": "expire",
}

UNDERWRITE_PERMISSION = "origination.underwrite_application"


def lock(application) -> Application:
    """The application's row, locked for the rest of the transaction."""
    return Application.objects.select_for_update().get(pk=application.pk)


def refuse(application: Application, action: str) -> Conflict:
    label = ACTION_LABELS.get(action, action.replace("_", " "))
    return Conflict(
        f"Cannot {label} application {application.reference or application.pk}: "
        f"it is {application.get_state_display().lower()}.",
        code="invalid_transition",
        fields={"state": application.state, "action": action},
    )


def check_can(application: Application, action: str) -> None:
    if not can_proceed(getattr(application, action)):
        raise refuse(application, action)


def apply_transition(
    application: Application,
    action: str,
    *,
    acting_user=None,
    note: str = "",
    fields: tuple[str, ...] = (),
    metadata: dict | None = None,
) -> Application:
    """Run transition `action` on a locked application, save the state and
    `fields`, append the timeline event and the audit event. Raises
    Conflict (409) naming the current state when the transition is not
    allowed from it."""
    check_can(application, action)
    before = application.state
    getattr(application, action)()
    application.save(update_fields=["state", "updated_at", *fields])
    actor = actor_of(acting_user)
    ApplicationEvent.objects.create(
        application=application,
        from_state=before,
        to_state=application.state,
        actor=actor,
        note=note[:2000],
    )
    audit.record(
        action=f"application.{action}",
        category=AuditCategory.STATE_CHANGE,
        obj=application,
        changes={"state": [before, application.state]},
        metadata={"note": note, **(metadata or {})},
        actor=actor,
    )
    return application


def require_perm(user, perm: str, message: str) -> None:
    if actor_of(user) is None or not user.has_perm(perm):
        raise PermissionDenied(message, code="not_allowed")
