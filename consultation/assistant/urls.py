"""Staff pages of this part, inside the `consultation` namespace (names prefixed, see ../urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("suggest/", views.suggest, name="assistant-suggest"),
]
