from django.apps import AppConfig


class OriginationConfig(AppConfig):
    name = "origination"
    verbose_name = "Origination"

    def ready(self) -> None:
        from origination import (
            eod,  # noqa: F401 - registers the end-of-day step
            tasks,  # noqa: F401 - registers the tasks services queue by name
        )
