"""Public pages and feeds, the organizer's pages, and co-signing."""

from saha.statements.views import cosigning, feeds, manage, public

app_name = "statements"

# The feeds first: "feed.atom" must not be read as a statement's address.
urlpatterns = [*feeds.urlpatterns, *public.urlpatterns, *manage.urlpatterns, *cosigning.urlpatterns]
