from django.apps import AppConfig
from django.db.models.signals import post_migrate


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and access"

    def ready(self) -> None:
        from users import roles, schema  # noqa: F401 (registers the OpenAPI auth extension)

        post_migrate.connect(roles.sync_roles_after_migrate, sender=self)
