from django.urls import path

from . import views

app_name = "branches"
urlpatterns = [
    path("", views.branch_index, name="list"),
    path("<int:branch_id>/", views.branch_detail, name="detail"),
]
