from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.eod import register_step
        from core.idempotency import purge_step

        # Last step of end of day: API idempotency records past retention.
        register_step(
            "purge_idempotency_records", 90, chunks=lambda d: [(None, None)], run=purge_step
        )
