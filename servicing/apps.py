from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ServicingConfig(AppConfig):
    name = "servicing"
    verbose_name = "Servicing"

    def ready(self) -> None:
        from servicing import eod  # noqa: F401 - registers the end-of-day steps
        from servicing.chart import ensure_chart_after_migrate

        post_migrate.connect(ensure_chart_after_migrate, sender=self)
