"""The custom user (from the first migration) and integrators' API keys."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """Staff, borrowers and integration accounts share one model.

    `kind` separates the back office from the portal: staff sign in at
    /staff/, borrowers at /portal/, integration accounts never sign in (they
    act through API keys). A staff user's role is its one group in
    users.roles.ROLES."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        BORROWER = "borrower", "Borrower"
        INTEGRATION = "integration", "Integration"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STAFF)
    email = models.EmailField("email address", blank=True)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_message="A user with this e-mail address already exists.",
            )
        ]
        permissions = [
            ("access_origination", "Can open the origination area"),
            ("access_servicing", "Can open the servicing area"),
            ("access_collections", "Can open the collections area"),
            ("access_reporting", "Can open the reporting area"),
            ("manage_users", "Can create staff users and assign roles"),
            ("manage_api_keys", "Can create and revoke API keys"),
            ("use_calculators", "Can use the loan and APR calculators"),
        ]

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF and self.is_active

    @property
    def is_borrower(self) -> bool:
        return self.kind == self.Kind.BORROWER

    @property
    def role(self) -> str | None:
        """The staff role name (a key of users.roles.ROLES), or None."""
        from users.roles import role_of

        return role_of(self)

    @property
    def role_label(self) -> str:
        from users.roles import ROLES

        role = self.role
        return ROLES[role].label if role else ("Borrower" if self.is_borrower else "No role")

    @property
    def requires_two_factor(self) -> bool:
        """Managers, administrators and superusers must pass a second factor."""
        from users.roles import ROLES

        if self.is_superuser:
            return True
        role = self.role
        return bool(role and ROLES[role].requires_two_factor)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()


class ApiKey(models.Model):
    """An integrator's credential: `Authorization: Api-Key <prefix>.<secret>`.

    Only the SHA-256 of the secret is stored (the secret is 32 random bytes,
    so a slow hash adds nothing); the full key is shown once at creation.
    Each key acts as its own integration user so audit rows name it."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        if self.revoked_at:
            return False
        return not (self.expires_at and self.expires_at <= timezone.now())

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
