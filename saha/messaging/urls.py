from saha.messaging.views import broadcasts, confirm, public, settings

urlpatterns = [
    *confirm.urlpatterns,
    *public.urlpatterns,
    *broadcasts.urlpatterns,
    *settings.urlpatterns,
]
