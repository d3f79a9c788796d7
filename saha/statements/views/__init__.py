"""Views of statements: public pages (`public.py`), feeds (`feeds.py`), the organizer's
pages (`manage.py`) and answers to other organizations (`cosigning.py`)."""
