"""Staff administration: staff users and API keys (administrators)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from core.exceptions import DomainError, NotFound
from core.selectors.audit import object_history
from users import services
from users.access import staff_required
from users.forms.api_keys import ApiKeyCreateForm
from users.forms.errors import add_domain_error
from users.forms.staff import StaffCreateForm, StaffDetailsForm, StaffFilterForm, StaffRoleForm
from users.models import User
from users.roles import ROLES
from users.scopes import SCOPES
from users.selectors.api_keys import all_api_keys, get_api_key
from users.selectors.sign_in import failed_attempts
from users.selectors.staff import get_staff_user, staff_users, with_roles

PAGE_SIZE = 50


# --- staff administration ----------------------------------------------------------------


def _staff_user(pk: int) -> User:
    try:
        return get_staff_user(pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@staff_required("users.manage_users")
def staff_list(request):
    form = StaffFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    users = staff_users(
        filters.get("q") or "", role=filters.get("role") or "", status=filters.get("status") or ""
    )
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = with_roles(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "users/staff_list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@staff_required("users.manage_users")
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_staff_user(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                password=form.initial_password,
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if form.initial_password:
                messages.success(
                    request, f"Created {user.username}. Give them the initial password in person."
                )
            else:
                services.send_set_password_email(
                    user=user,
                    domain=request.get_host(),
                    use_https=request.is_secure(),
                    acting_user=request.user,
                    invitation=True,
                )
                messages.success(
                    request, f"Created {user.username} and e-mailed them a link to set a password."
                )
            return redirect("users:staff-edit", pk=user.pk)
    return render(request, "users/staff_create.html", {"form": form})


STAFF_ACTIONS = (
    "details",
    "role",
    "activate",
    "deactivate",
    "reset_two_factor",
    "unlock",
    "send_link",
)


@staff_required("users.manage_users")
def staff_edit(request, pk: int):
    """One staff user: details, role, active flag, two-factor reset, lockout
    and password link. Each POST carries an `action` and calls one service."""
    target = _staff_user(pk)
    details_form = StaffDetailsForm(
        initial={
            "first_name": target.first_name,
            "last_name": target.last_name,
            "email": target.email,
        }
    )
    role_form = StaffRoleForm(initial={"role": target.role})
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None:
        if action not in STAFF_ACTIONS:
            messages.error(request, "Unknown action.")
            return redirect("users:staff-edit", pk=pk)
        acting = request.user
        try:
            if action == "details":
                details_form = StaffDetailsForm(request.POST)
                if details_form.is_valid():
                    services.update_staff_details(
                        user=target, acting_user=acting, **details_form.cleaned_data
                    )
                    messages.success(request, "Details saved.")
                    return redirect("users:staff-edit", pk=pk)
            elif action == "role":
                role_form = StaffRoleForm(request.POST)
                if role_form.is_valid():
                    role = role_form.cleaned_data["role"]
                    services.change_role(user=target, role=role, acting_user=acting)
                    messages.success(request, f"{target.username} is now {ROLES[role].label}.")
                    return redirect("users:staff-edit", pk=pk)
            elif action in ("activate", "deactivate"):
                services.set_active(user=target, active=action == "activate", acting_user=acting)
                messages.success(request, f"{target.username} is {action}d.")
                return redirect("users:staff-edit", pk=pk)
            elif action == "reset_two_factor":
                services.reset_two_factor(user=target, acting_user=acting)
                messages.success(
                    request,
                    f"Two-factor for {target.username} is reset; "
                    "they set it up again at their next sign-in"
                    + (" (their role requires it)." if target.requires_two_factor else "."),
                )
                return redirect("users:staff-edit", pk=pk)
            elif action == "unlock":
                services.unlock_user(user=target, acting_user=acting)
                messages.success(request, f"{target.username} can sign in again.")
                return redirect("users:staff-edit", pk=pk)
            elif action == "send_link":
                services.send_set_password_email(
                    user=target,
                    domain=request.get_host(),
                    use_https=request.is_secure(),
                    acting_user=acting,
                )
                messages.success(request, f"Password link sent to {target.email}.")
                return redirect("users:staff-edit", pk=pk)
        except DomainError as exc:
            form = {"details": details_form, "role": role_form}.get(action)
            if form is not None and exc.fields:
                add_domain_error(form, exc)
            else:
                messages.error(request, exc.message)
                return redirect("users:staff-edit", pk=pk)

    history = list(object_history(User._meta.label_lower, str(target.pk)))[-25:]
    return render(
        request,
        "users/staff_edit.html",
        {
            "target": target,
            "details_form": details_form,
            "role_form": role_form,
            "two_factor_on": target.two_factor_on,
            "locked_out": target.locked_out,
            "failed_attempts": failed_attempts(target.username),
            "is_self": target.pk == request.user.pk,
            "history": history[::-1],
        },
    )


# --- API keys -------------------------------------------------------------------------------


@staff_required("users.manage_api_keys")
def api_keys(request):
    page = Paginator(all_api_keys(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "users/api_keys.html", {"page": page, "scopes": SCOPES})


@never_cache
@staff_required("users.manage_api_keys")
def api_key_create(request):
    form = ApiKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, full_key = services.create_api_key(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
                expires_at=form.expires_at,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Rendered, not redirected: the full key exists only in this response.
            return render(
                request,
                "users/api_key_created.html",
                {"key": key, "full_key": full_key, "scopes": SCOPES},
            )
    return render(request, "users/api_key_create.html", {"form": form, "scopes": SCOPES})


@staff_required("users.manage_api_keys")
def api_key_revoke(request, pk: int):
    try:
        key = get_api_key(pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.method == "POST":
        already = key.revoked_at is not None
        services.revoke_api_key(key=key, acting_user=request.user)
        if already:
            messages.info(request, f"{key.name} was already revoked.")
        else:
            messages.success(
                request, f"{key.name} ({key.prefix}) is revoked; it stops working at once."
            )
        return redirect("users:api-keys")
    return render(request, "users/api_key_revoke.html", {"key": key, "scopes": SCOPES})
