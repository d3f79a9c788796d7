"""Playwright fixtures driving Debian's Chromium (pytest plugin; see saha/conftest.py).

Filled in by the browser-harness work; the plugin must exist for conftest to load.
"""
