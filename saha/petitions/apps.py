from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "saha.petitions"
    label = "petitions"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        from saha.core.health import register_section
        from saha.petitions import intake, receivers, segments, tasks  # noqa: F401  (registries)

        register_section("petitions", intake.health)
