"""URL map: staff pages, admin, the REST API under /api/v1/, its schema and docs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from bankservice.branches.api import BranchViewSet
from bankservice.core import views as core_views
from bankservice.customers.api import CustomerViewSet
from bankservice.events.api import EventViewSet
from bankservice.events.webhook_api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("customers", CustomerViewSet, basename="customer")
router.register("branches", BranchViewSet, basename="branch")
router.register("events", EventViewSet, basename="event")
router.register(
    "webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription"
)
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("bankservice.core.security_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("bankservice.customers.urls")),
    path("branches/", include("bankservice.branches.urls")),
    path("audit/", include("bankservice.events.urls")),
    path("reception/", include("reception.urls")),
    path("consultation/", include("consultation.urls")),
    path("transactions/", include("transactions.urls")),
    path("complaints/", include("complaints.urls")),
    path("care/", include("care.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("notify/", include("bankservice.notify.urls")),
    path("settings/api-clients/", include("bankservice.core.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    # Stage apps route their own resources (the kernel never imports a stage app).
    path("api/v1/", include("reception.api")),
    path("api/v1/", include("consultation.api")),
    path("api/v1/", include("transactions.api")),
    path("api/v1/", include("complaints.api")),
    path("api/v1/", include("care.api")),
    path("api/v1/", include("dashboards.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("reception.public_urls")),
    path("", include("transactions.public_urls")),
    path("", include("complaints.public_urls")),
    path("", include("care.survey_public_urls")),
    path("", include("care.campaign_public_urls")),
]

# JSON under /api/, the usual pages elsewhere.
handler400 = "bankservice.core.api_errors.bad_request"
handler404 = "bankservice.core.api_errors.not_found"
handler500 = "bankservice.core.api_errors.server_error"
