"""Staff pages of the kernel: API clients (included at settings/api-clients/)."""

from django.urls import path

from . import views_apiclients as views

app_name = "apiclients"
urlpatterns = [
    path("", views.apiclient_list, name="list"),
    path("new/", views.apiclient_new, name="new"),
    path("<int:client_id>/", views.apiclient_detail, name="detail"),
    path("<int:client_id>/rotate/", views.apiclient_rotate, name="rotate"),
    path("<int:client_id>/revoke/", views.apiclient_revoke_view, name="revoke"),
    path("<int:client_id>/reactivate/", views.apiclient_reactivate_view, name="reactivate"),
]
