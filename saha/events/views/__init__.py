"""Views of events: the public pages (`public.py`)."""
