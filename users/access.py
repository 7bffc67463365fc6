"""Guards for staff pages and portal pages.

Staff pages: the user must be signed in, be staff, have passed two-factor
if their role requires it (or if they enrolled a device), and hold the
page's permission; otherwise they are sent to sign in / enrol / verify, or
get 403. Portal pages: the user must be a signed-in borrower.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django_otp import user_has_device


def two_factor_state(user) -> str:
    """'ok', 'enrol' (role requires 2FA, no device yet) or 'verify'."""
    verified = getattr(user, "is_verified", lambda: False)()
    if verified:
        return "ok"
    if user_has_device(user, confirmed=True):
        return "verify"
    if user.requires_two_factor:
        return "enrol"
    return "ok"


def staff_gate(request, permissions=()):
    """None when the request may proceed, else the response to return."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), "users:login")
    if not user.is_staff_member:
        raise PermissionDenied("This area is for staff.")
    state = two_factor_state(user)
    if state == "enrol":
        return redirect("users:otp-setup")
    if state == "verify":
        return redirect_to_login(request.get_full_path(), "users:otp-verify")
    if permissions and not all(user.has_perm(p) for p in permissions):
        raise PermissionDenied("Your role does not include this area.")
    return None


def staff_required(*permissions: str):
    """Decorator for staff views; `permissions` must all be held."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = staff_gate(request, permissions)
            return response or view(request, *args, **kwargs)

        return wrapper

    return decorator


class StaffRequiredMixin:
    """Class-based view form of `staff_required`; set `required_permissions`."""

    required_permissions: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        response = staff_gate(request, self.required_permissions)
        return response or super().dispatch(request, *args, **kwargs)


def borrower_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "portal:login")
        if not user.is_borrower:
            raise PermissionDenied("The portal is for borrowers.")
        return view(request, *args, **kwargs)

    return wrapper
