"""Signed A/B firmware updates (arrives with the firmware issue)."""
