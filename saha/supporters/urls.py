"""Each view module lists its own patterns, all under manage/<slug>/people/."""

from saha.supporters.views import exports, fields, imports, people, privacy, segments

app_name = "supporters"

urlpatterns = [
    *people.urlpatterns,
    *segments.urlpatterns,
    *imports.urlpatterns,
    *exports.urlpatterns,
    *privacy.urlpatterns,
    *fields.urlpatterns,
]
