"""A staff member's own account: two-factor set-up and backup codes,
password change, and password reset by e-mail (staff and portal)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from core.exceptions import DomainError
from users import services
from users.access import StaffRequiredMixin, two_factor_state
from users.forms.errors import add_domain_error
from users.forms.passwords import (
    PortalPasswordResetForm,
    ResetSetPasswordForm,
    StaffPasswordChangeForm,
    StaffPasswordResetForm,
)
from users.forms.two_factor import ConfirmDeviceForm, DisableTwoFactorForm
from users.selectors.two_factor import two_factor_status
from users.views.sign_in import AFTER_ENROLMENT_KEY, NEW_BACKUP_CODES_KEY, with_next

# --- own two-factor -------------------------------------------------------------------


def two_factor_gate(request):
    """Staff who are signed in; a confirmed device must have been verified
    first (so a stolen password cannot switch two-factor off)."""
    user = request.user
    if not user.is_authenticated:
        return redirect(with_next("users:login", request.get_full_path()))
    if not user.is_staff_member:
        raise PermissionDenied("This area is for staff.")
    if two_factor_state(user) == "verify":
        return redirect(with_next("users:otp-verify", request.get_full_path()))
    return None


@never_cache
def otp_setup(request):
    """Enrol an authenticator (QR code + secret, confirm with a code), then
    show backup codes once; or, when enrolled, replace backup codes or turn
    two-factor off (only if the role does not require it)."""
    gate = two_factor_gate(request)
    if gate:
        return gate
    user = request.user
    status = two_factor_status(user)
    device = status.device
    action = request.POST.get("action") if request.method == "POST" else None

    if device is not None:
        disable_form = DisableTwoFactorForm(user, request.POST if action == "disable" else None)
        if action == "backup-codes":
            request.session[NEW_BACKUP_CODES_KEY] = services.regenerate_backup_codes(user=user)
            return redirect("users:otp-backup-codes")
        if action == "disable" and disable_form.is_valid():
            try:
                services.disable_two_factor(user=user)
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect("users:otp-setup")
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("users:otp-setup")
        return render(
            request,
            "users/otp_setup.html",
            {
                "device": device,
                "backup_left": status.backup_codes_left,
                "disable_form": disable_form,
                "base_template": "staff/base.html",
            },
        )

    forced = user.requires_two_factor
    if not (forced or status.has_pending_device or action in ("start", "restart")):
        # Optional for this role: nothing is created until they choose to start.
        return render(
            request, "users/otp_setup.html", {"intro": True, "base_template": "staff/base.html"}
        )
    pending = services.start_totp_enrolment(user=user, restart=action == "restart")
    if action in ("start", "restart"):
        return redirect("users:otp-setup")
    form = ConfirmDeviceForm(request.POST if action == "confirm" else None)
    if action == "confirm" and form.is_valid():
        try:
            device, codes = services.confirm_totp_device(
                user=user, token=form.cleaned_data["token"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            otp_login(request, device)
            request.session[NEW_BACKUP_CODES_KEY] = codes
            messages.success(request, "Two-factor authentication is on.")
            return redirect("users:otp-backup-codes")
    return render(
        request,
        "users/otp_setup.html",
        {
            "pending": pending,
            "form": form,
            "forced": forced,
            "base_template": "users/auth_base.html" if forced else "staff/base.html",
        },
    )


@never_cache
def otp_backup_codes(request):
    """Shows freshly issued backup codes exactly once (they are kept in the
    session only until this page is rendered)."""
    gate = two_factor_gate(request)
    if gate:
        return gate
    codes = request.session.pop(NEW_BACKUP_CODES_KEY, None)
    if not codes:
        messages.info(
            request,
            "Backup codes are shown only once. Generate a new set if you have lost them.",
        )
        return redirect("users:otp-setup")
    next_url = request.session.pop(AFTER_ENROLMENT_KEY, None) or reverse("staff-home")
    return render(request, "users/otp_backup_codes.html", {"codes": codes, "next": next_url})


# --- passwords ------------------------------------------------------------------------


class StaffPasswordChangeView(StaffRequiredMixin, auth_views.PasswordChangeView):
    form_class = StaffPasswordChangeForm
    template_name = "users/password_change.html"
    success_url = reverse_lazy("staff-home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


STAFF_AUTH = {
    "base_template": "users/auth_base.html",
    "sign_in_url": "users:login",
    "new_link_url": "users:password-reset",
    "surface": "staff",
}
PORTAL_AUTH = {
    "base_template": "portal/base.html",
    "sign_in_url": "portal:login",
    "new_link_url": "portal:password-reset",
    "surface": "portal",
}


def _reset_views(context: dict, namespace: str, form_class, email_template: str):
    return {
        "reset": auth_views.PasswordResetView.as_view(
            template_name="users/password_reset_form.html",
            form_class=form_class,
            email_template_name=email_template,
            subject_template_name="users/email/password_reset_subject.txt",
            success_url=reverse_lazy(f"{namespace}:password-reset-done"),
            extra_context=context,
            extra_email_context={
                "platform_name": settings.PLATFORM_NAME,
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        ),
        "done": auth_views.PasswordResetDoneView.as_view(
            template_name="users/password_reset_done.html", extra_context=context
        ),
        "confirm": auth_views.PasswordResetConfirmView.as_view(
            template_name="users/password_reset_confirm.html",
            form_class=ResetSetPasswordForm,
            success_url=reverse_lazy(f"{namespace}:password-reset-complete"),
            extra_context=context,
        ),
        "complete": auth_views.PasswordResetCompleteView.as_view(
            template_name="users/password_reset_complete.html", extra_context=context
        ),
    }


staff_reset = _reset_views(
    STAFF_AUTH, "users", StaffPasswordResetForm, "users/email/password_reset_email.txt"
)
portal_reset = _reset_views(
    PORTAL_AUTH,
    "portal",
    PortalPasswordResetForm,
    "users/email/portal_password_reset_email.txt",
)
