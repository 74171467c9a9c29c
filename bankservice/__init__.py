"""The bank branch service desk: project package and shared kernel."""

from .celery import app as celery_app

__all__ = ("celery_app",)
