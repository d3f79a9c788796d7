from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "saha.organizations"
    label = "organizations"
    verbose_name = _("Organizations")

    def ready(self) -> None:
        from saha.organizations import search_index

        # The public search's index follows every save of a searched text.
        search_index.connect()
