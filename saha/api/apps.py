from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "saha.api"
    label = "api"
    verbose_name = _("Open API")

    def ready(self) -> None:
        from saha.api import public_rows, receivers  # noqa: F401  (signal receivers)
