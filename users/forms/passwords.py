"""Password forms: change, set after a reset link, and asking for a reset
link. Their save() goes through users.services.set_password, so Django's own
auth views audit too."""

from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm

from users import services
from users.models import User


class ServicePasswordMixin:
    """save() through users.services.set_password, which audits."""

    set_reason = "change"

    def save(self, commit=True):
        return services.set_password(
            user=self.user, password=self.cleaned_data["new_password1"], reason=self.set_reason
        )


class StaffPasswordChangeForm(ServicePasswordMixin, PasswordChangeForm):
    set_reason = "change"


class ResetSetPasswordForm(ServicePasswordMixin, SetPasswordForm):
    set_reason = "reset"


class _KindPasswordResetForm(PasswordResetForm):
    """Sends links only to active accounts of one kind. Unlike Django's form
    it includes accounts without a usable password, so a staff member whose
    invitation link expired can ask for a new one."""

    kind = User.Kind.STAFF

    def get_users(self, email):
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True, kind=self.kind)
            if user.email.casefold() == email.casefold()
        )


class StaffPasswordResetForm(_KindPasswordResetForm):
    kind = User.Kind.STAFF


class PortalPasswordResetForm(_KindPasswordResetForm):
    kind = User.Kind.BORROWER
