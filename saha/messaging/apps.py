from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "saha.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from saha.messaging import receivers, tasks, timeline  # noqa: F401  (registries)
