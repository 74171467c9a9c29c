from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_search, name="list"),
    path("new/", views.customer_new, name="new"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:customer_id>/merge/", views.customer_merge_view, name="merge"),
]
