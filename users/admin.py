"""The Django admin (configuration only) and the users app's models in it.

The admin site requires an active administrator (the role, or a superuser)
who has passed two-factor in this session (django-otp's OTPAdminSite).
Its own login page is replaced by the staff sign-in, so there is one login,
one lockout policy and one audit trail. Users and API keys are read-only
here: their writes go through users.services from the staff pages."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django_otp.admin import OTPAdminSite

from users.access import two_factor_state
from users.models import ApiKey, User


class LendingAdminSite(OTPAdminSite):
    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and getattr(user, "is_staff_member", False)
            and (user.role == "administrator" or user.is_superuser)
            and user.is_verified()
        )

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, "users:login")
        if getattr(user, "is_staff_member", False):
            state = two_factor_state(user)
            if state == "verify":
                return redirect_to_login(next_url, "users:otp-verify")
            if state == "enrol" or (user.role == "administrator" and not user.is_verified()):
                return redirect("users:otp-setup")
        raise PermissionDenied("The configuration site is for administrators.")

    def logout(self, request, extra_context=None):
        from users.views import staff_logout

        return staff_logout(request)


# Swap the class of the default site in place, so every app's registrations
# (made on admin.site whenever their admin module is imported) stay put.
admin.site.__class__ = LendingAdminSite
admin.site.site_header = "Configuration"
admin.site.site_title = "Configuration"
admin.site.index_title = "Site administration"
admin.site.site_url = "/staff/"


class ReadOnlyAdmin(admin.ModelAdmin):
    view_permission: str = ""

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm(self.view_permission)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(self.view_permission)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    view_permission = "users.manage_users"
    list_display = (
        "username",
        "kind",
        "role_label",
        "email",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("kind", "is_active", "is_staff", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "kind",
        "role_label",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
        "manage",
    )
    readonly_fields = fields

    @admin.display(description="Role")
    def role_label(self, obj) -> str:
        return obj.role_label

    @admin.display(description="Manage")
    def manage(self, obj) -> str:
        if obj.kind != User.Kind.STAFF:
            return "—"
        return format_html(
            '<a href="{}">Change role, access and two-factor on the staff page</a>',
            reverse("users:staff-edit", args=[obj.pk]),
        )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    view_permission = "users.manage_api_keys"
    list_display = (
        "name",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    fields = (
        "name",
        "prefix",
        "scopes",
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields
