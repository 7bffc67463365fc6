"""The API's one permission policy.

- API key: the key must carry the view's scope ("<api_scope>:read" for safe
  methods, ":write" otherwise).
- Browser session: a staff user who has passed any required two-factor and
  holds the view's Django permissions (`required_permissions`, a dict of
  method -> tuple, with "*" as the fallback).
Views without `api_scope` are closed to API keys; views without
`required_permissions` are closed to sessions.
"""

from rest_framework import permissions

from users.access import two_factor_state
from users.models import ApiKey
from users.scopes import scope_for


class ApiAccess(permissions.BasePermission):
    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            family = getattr(view, "api_scope", None)
            if not family:
                self.message = "This operation is not available to API keys."
                return False
            scope = scope_for(family, request.method, getattr(view, "api_scope_access", None))
            if not request.auth.has_scope(scope):
                self.message = f"This API key lacks the scope {scope}."
                return False
            return True

        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_staff_member:
            self.message = "This operation is for staff."
            return False
        if two_factor_state(user) != "ok":
            self.message = "Complete two-factor authentication first."
            return False
        required = getattr(view, "required_permissions", None)
        if required is None:
            return False
        perms = required.get(request.method, required.get("*", ()))
        if not all(user.has_perm(p) for p in perms):
            self.message = "Your role does not allow this."
            return False
        return True
