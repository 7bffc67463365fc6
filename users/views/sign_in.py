"""Signing in and out, staff and portal, with the second-factor step; the
landing page and the staff home.

Sign-in goes through django.contrib.auth.authenticate(request=...) so
django-axes counts every failure; wrong second-factor codes are reported to
axes the same way, so five wrong passwords or codes lock the
username+address pair out and AxesMiddleware answers 429 with
users/locked_out.html.
"""

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import user_login_failed
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login

from users import services
from users.access import staff_required, two_factor_state
from users.forms.sign_in import PortalLoginForm, StaffLoginForm, TokenForm
from users.roles import ROLES, areas_for
from users.selectors.sign_in import user_by_username

NEW_BACKUP_CODES_KEY = "users.new_backup_codes"
AFTER_ENROLMENT_KEY = "users.after_enrolment"


# --- helpers ---------------------------------------------------------------------


def safe_next(request, default: str) -> str:
    """The ?next= (or posted next) target if it stays on this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


def with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _start_session(request, user) -> None:
    """Sign `user` in: Django rotates the session key (no fixation) and
    axes clears the failures of this username+address. The session lasts
    SESSION_COOKIE_AGE and, per settings, ends when the browser closes."""
    # A second factor proven earlier in this browser session does not carry
    # over to a new password sign-in.
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    auth_login(request, user)
    request.session.set_expiry(
        0 if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else settings.SESSION_COOKIE_AGE
    )


def _refusal_reason(request, form) -> str | None:
    """Why a sign-in form failed, for the audit trail; None when the form
    never reached authentication (a field was empty)."""
    if getattr(request, "axes_locked_out", False):
        failures = getattr(request, "axes_failures_since_start", None)
        return "locked_out" if failures == settings.AXES_FAILURE_LIMIT else "blocked"
    codes = {e.code for e in form.non_field_errors().as_data()}
    if codes & {"borrower", "integration", "staff"}:
        return "wrong_surface"
    if "invalid_login" in codes:
        return "bad_credentials"
    return None


def _audit_refusal(request, form, *, surface: str, username: str) -> None:
    reason = _refusal_reason(request, form)
    if reason is None:
        return
    user = getattr(form, "user_cache", None) or user_by_username(username)
    services.record_sign_in_refused(username=username, surface=surface, reason=reason, user=user)


def _second_factor_step(user) -> str:
    state = two_factor_state(user)
    return {"verify": "verify", "enrol": "enrol"}.get(state, "not_required")


# --- landing and staff home -------------------------------------------------------


def landing(request):
    user = request.user
    if user.is_authenticated and user.is_staff_member:
        return redirect("staff-home")
    if user.is_authenticated and user.is_borrower:
        return redirect("portal:home")
    return render(request, "landing.html")


@staff_required()
def staff_home(request):
    user = request.user
    return render(
        request,
        "staff/home.html",
        {
            "areas": areas_for(user),
            "role": ROLES.get(user.role) if user.role else None,
            "two_factor_on": user_has_device(user, confirmed=True),
            "two_factor_required": user.requires_two_factor,
        },
    )


# --- staff sign-in ------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def staff_login(request):
    next_url = safe_next(request, "staff-home")
    if request.method == "GET" and request.user.is_authenticated and request.user.is_staff_member:
        return redirect(next_url)
    form = StaffLoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            _start_session(request, user)
            step = _second_factor_step(user)
            services.record_sign_in(user=user, surface="staff", second_factor=step)
            if step == "verify":
                return redirect(with_next("users:otp-verify", next_url))
            if step == "enrol":
                request.session[AFTER_ENROLMENT_KEY] = next_url
                return redirect("users:otp-setup")
            return redirect(next_url)
        _audit_refusal(request, form, surface="staff", username=request.POST.get("username", ""))
    return render(request, "users/login.html", {"form": form, "next": next_url})


@never_cache
def otp_verify(request):
    """Second step of sign-in for users with a confirmed device."""
    user = request.user
    next_url = safe_next(request, "staff-home")
    if not user.is_authenticated:
        return redirect(with_next("users:login", next_url))
    if not user.is_staff_member:
        raise PermissionDenied("This area is for staff.")
    state = two_factor_state(user)
    if state == "ok":
        return redirect(next_url)
    if state == "enrol":
        return redirect("users:otp-setup")

    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        auth_logout(request)
        return get_lockout_response(request, None, credentials)

    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        result = None
        if form.is_valid():
            result = services.verify_second_factor(user=user, token=form.cleaned_data["token"])
            if result.device is not None:
                otp_login(request, result.device)
                AxesProxyHandler.reset_attempts(
                    ip_address=request.axes_ip_address, username=user.get_username()
                )
                services.record_two_factor_passed(user=user, device=result.device)
                return redirect(next_url)
            form.add_error("token", result.message)
        # Every wrong or throttled code counts towards the lockout, like a
        # wrong password; at the limit AxesMiddleware answers with 429.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        reason = "locked_out" if getattr(request, "axes_locked_out", False) else "bad_code"
        services.record_sign_in_refused(
            username=user.get_username(), surface="staff", reason=reason, user=user
        )
        if reason == "locked_out":
            auth_logout(request)
    return render(request, "users/otp_verify.html", {"form": form, "next": next_url})


@require_POST
def staff_logout(request):
    if request.user.is_authenticated:
        services.record_sign_out(user=request.user, surface="staff")
    auth_logout(request)
    messages.info(request, "You have signed out.")
    return redirect("users:login")


# --- portal sign-in -------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def portal_login(request):
    next_url = safe_next(request, reverse("portal:home"))
    if request.method == "GET" and request.user.is_authenticated and request.user.is_borrower:
        return redirect(next_url)
    form = PortalLoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            _start_session(request, user)
            services.record_sign_in(user=user, surface="portal", second_factor="not_required")
            return redirect(next_url)
        _audit_refusal(
            request,
            form,
            surface="portal",
            username=form.attempted_username or request.POST.get("email", ""),
        )
    return render(request, "users/portal_login.html", {"form": form, "next": next_url})


@require_POST
def portal_logout(request):
    if request.user.is_authenticated:
        services.record_sign_out(user=request.user, surface="portal")
    auth_logout(request)
    messages.info(request, "You have signed out.")
    return redirect("portal:login")
