"""Views of volunteers: the public pages (`public.py`), the pages reached by a signed link
(`links.py`) and the organizer's pages (`manage.py`)."""
