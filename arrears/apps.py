from django.apps import AppConfig


class ArrearsConfig(AppConfig):
    name = "arrears"
    verbose_name = "Collections"
