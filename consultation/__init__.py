"""Consultation: the models arrive with the consultation issue."""
