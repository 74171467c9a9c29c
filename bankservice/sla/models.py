"""Deadlines: models arrive with the mechanisms issue."""
