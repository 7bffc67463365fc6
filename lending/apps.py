from django.apps import AppConfig


class LendingConfig(AppConfig):
    """The project package as an app, only so that it can own the management
    commands that span every app (load_demo); it has no models."""

    name = "lending"
    verbose_name = "Lending platform"
