"""Public reception pages, mounted at the site root: kiosks, display boards, ticket status,
remote check-in."""

from django.urls import path

from . import appointment_public_views, public_views

app_name = "reception_public"
urlpatterns = [
    path("kiosk/<str:token>/", public_views.kiosk, name="kiosk"),
    path(
        "kiosk/<str:token>/ticket/<str:public_token>/",
        public_views.kiosk_ticket,
        name="kiosk-ticket",
    ),
    path("display/<str:token>/", public_views.board, name="board"),
    path("display/<str:token>/feed", public_views.board_feed_view, name="board-feed"),
    path("t/<str:public_token>/", public_views.ticket_status, name="status"),
    path("checkin/<slug:branch_code>/", public_views.remote_checkin, name="checkin"),
    path("book/<slug:branch_code>/", appointment_public_views.book, name="book"),
    path("a/<str:reference>/", appointment_public_views.manage, name="appointment"),
]
