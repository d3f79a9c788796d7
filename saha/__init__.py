"""Saha (ساحة, "the public square"): a self-hosted platform for civic mobilization."""

__version__ = "0.1.0"
