from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "saha.events"
    label = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from saha.events import receivers, segments, tasks  # noqa: F401  (registries)
