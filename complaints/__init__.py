"""Complaints: the models arrive with the complaints issue."""
