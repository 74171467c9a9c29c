"""URLs of the sign-in security pages (included under accounts/)."""

from django.urls import include, path

from . import security_views as views

two_factor_patterns = (
    [
        path("verify/", views.two_factor_verify, name="verify"),
        path("enrol/", views.two_factor_enrol, name="enrol"),
    ],
    "two_factor",
)
security_patterns = (
    [
        path("", views.security_home, name="home"),
        path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
        path("roles/", views.role_policy, name="roles"),
        path("users/", views.user_list, name="users"),
        path("users/<int:user_id>/reset-two-factor/", views.user_two_factor_reset, name="reset"),
        path(
            "users/<int:user_id>/sign-out-everywhere/",
            views.user_sign_out_everywhere,
            name="user_sign_out",
        ),
    ],
    "security",
)

urlpatterns = [
    path("two-factor/", include(two_factor_patterns)),
    path("security/", include(security_patterns)),
]
