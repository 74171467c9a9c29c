"""Dashboards: the models arrive with the dashboards issue."""
