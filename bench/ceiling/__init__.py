"""The ceiling: a bare Django project whose one view does one INSERT per request.

Run under the same gunicorn settings as Saha (bench.harness.context.start_ceiling_app),
it is what this machine can do at best through Django, gunicorn and PostgreSQL:
Saha's figures are ratios to it, measured in the same run.
"""
