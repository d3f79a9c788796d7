"""Webhooks: filled by the webhooks work."""
