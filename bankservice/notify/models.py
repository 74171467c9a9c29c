"""Notifications: models arrive with the mechanisms issue."""
