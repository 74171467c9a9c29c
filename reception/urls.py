"""Staff reception pages, mounted at /reception/: the greeter's floor view and the counter
console. Every action is a POST that calls one service and redirects back."""

from django.urls import path

from . import appointment_views, views

app_name = "reception"
urlpatterns = [
    path("floor/", views.floor, name="floor"),
    path("floor/live/", views.floor_live, name="floor-live"),
    path("floor/issue/", views.issue, name="issue"),
    path("counter/", views.console, name="console"),
    path("counter/live/", views.console_live, name="console-live"),
    path("counters/<int:counter_id>/sign-in/", views.counter_sign_in_view, name="sign-in"),
    path("counters/<int:counter_id>/sign-out/", views.counter_sign_out_view, name="sign-out"),
    path("counters/<int:counter_id>/pause/", views.counter_pause_view, name="pause"),
    path("counters/<int:counter_id>/resume/", views.counter_resume_view, name="resume"),
    path("counters/<int:counter_id>/call-next/", views.call_next, name="call-next"),
    path("tickets/<int:ticket_id>/recall/", views.recall, name="recall"),
    path("tickets/<int:ticket_id>/start/", views.start, name="start"),
    path("tickets/<int:ticket_id>/complete/", views.complete, name="complete"),
    path("tickets/<int:ticket_id>/no-show/", views.no_show, name="no-show"),
    path("tickets/<int:ticket_id>/transfer/", views.transfer, name="transfer"),
    path("tickets/<int:ticket_id>/park/", views.park, name="park"),
    path("tickets/<int:ticket_id>/unpark/", views.unpark, name="unpark"),
    path("appointments/", appointment_views.appointment_list_view, name="appointments"),
    path("appointments/new/", appointment_views.appointment_new, name="appointment-new"),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        appointment_views.appointment_reschedule_view,
        name="appointment-reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        appointment_views.appointment_cancel_view,
        name="appointment-cancel",
    ),
    path(
        "appointments/<int:appointment_id>/check-in/",
        appointment_views.appointment_check_in_view,
        name="appointment-check-in",
    ),
    path("advisors/", appointment_views.advisor_list_view, name="advisors"),
    path("advisors/me/", appointment_views.my_calendar, name="my-calendar"),
    path("advisors/<int:advisor_id>/", appointment_views.advisor_calendar, name="advisor-calendar"),
    path(
        "advisors/<int:advisor_id>/availability/",
        appointment_views.availability_add_view,
        name="availability-add",
    ),
    path(
        "advisors/availability/<int:availability_id>/delete/",
        appointment_views.availability_delete_view,
        name="availability-delete",
    ),
    path(
        "advisors/<int:advisor_id>/time-off/",
        appointment_views.time_off_add_view,
        name="time-off-add",
    ),
    path(
        "advisors/time-off/<int:time_off_id>/delete/",
        appointment_views.time_off_delete_view,
        name="time-off-delete",
    ),
]
