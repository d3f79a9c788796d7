from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportersConfig(AppConfig):
    name = "saha.supporters"
    label = "supporters"
    verbose_name = _("Supporters")

    def ready(self) -> None:
        from saha.supporters import segments, tasks, timeline  # noqa: F401  (registries)
