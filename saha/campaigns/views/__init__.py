"""Public pages (public.py) and the organizer's pages (manage.py)."""
