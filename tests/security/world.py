"""Branch A's objects of every kind, for the access tests (tests/security/test_every_endpoint.py).

The demo bank (`seed_demo`) gives branches, staff of every role at sh-lujiazui (A) and
sh-xujiahui (B), regional managers, bank-wide roles, customers, tickets, consultations and
complaints; what it does not make is made here at branch A through the services, acting as A's
own staff.
"""

import datetime as dt
import io
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from bankservice.branches.models import Branch
from bankservice.customers.models import Customer

BRANCH_A = "sh-lujiazui"
BRANCH_B = "sh-xujiahui"
OTHER_REGION = "north"  # A is in "east"
# Written into A's records; no page or answer given to another branch's staff may show it.
MARKER = "Zqxmarker Branchaonly"
PDF_BYTES = b"%PDF-1.4\n% security test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _user(username):
    return get_user_model().objects.get(username=username)


def build_world() -> SimpleNamespace:
    from care.models import Campaign, CampaignTarget, TargetSource
    from complaints.models import Complaint, ComplaintExtension, CorrectiveAction
    from consultation.models import Article, Consultation
    from reception import demo
    from reception.models import AdvisorAvailability, Counter, Device, DeviceKind, Ticket

    # One week of past tickets instead of the demo's eight: enough for every page to have
    # something, a fraction of the time.
    weeks = demo.seed_history.__kwdefaults__["weeks"]
    demo.seed_history.__kwdefaults__["weeks"] = 1
    try:
        with override_settings(DEMO_DATA_ALLOWED=True):
            call_command("seed_demo", "--customers", "20", stdout=io.StringIO())
    finally:
        demo.seed_history.__kwdefaults__["weeks"] = weeks
    a = Branch.objects.get(code=BRANCH_A)
    w = SimpleNamespace(branch_a=a, branch_b=Branch.objects.get(code=BRANCH_B))
    manager = _user(f"branch_manager.{BRANCH_A}")
    w.customer = Customer.objects.filter(home_branch=a).order_by("pk").first()
    Customer.objects.filter(pk=w.customer.pk).update(full_name=MARKER)
    w.customer.refresh_from_db()
    w.counter = Counter.objects.filter(branch=a).order_by("pk").first()
    w.ticket = Ticket.objects.filter(branch=a).order_by("-pk").first()
    w.kiosk = Device.objects.get(branch=a, kind=DeviceKind.KIOSK)
    w.display = Device.objects.get(branch=a, kind=DeviceKind.DISPLAY)
    w.availability = AdvisorAvailability.objects.filter(branch=a).order_by("pk").first()
    w.advisor = w.availability.advisor
    w.consultation = Consultation.objects.filter(branch=a).order_by("pk").first()
    w.article = Article.objects.order_by("pk").first()
    w.version = w.article.versions.order_by("pk").first()
    w.complaint = Complaint.objects.filter(branch=a).order_by("pk").first()
    Complaint.objects.filter(pk=w.complaint.pk).update(contact_name=MARKER)
    w.extension = ComplaintExtension.objects.filter(complaint__branch=a).first()
    w.corrective_action = CorrectiveAction.objects.filter(complaint__branch=a).first()
    w.campaign = Campaign.objects.order_by("pk").first()

    from reception.advisors import time_off_add

    start = timezone.now() + dt.timedelta(days=30)
    w.time_off, _moved = time_off_add(
        actor=manager, advisor=w.advisor, starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    w.appointment = _book(a, manager)

    from transactions.models import RequestType
    from transactions.services import document_attach, request_create

    maker = _user(f"teller.{BRANCH_A}")
    w.request = request_create(
        actor=maker,
        customer=w.customer,
        request_type=RequestType.objects.filter(is_active=True).order_by("pk").first(),
        branch=a,
    )
    w.document = document_attach(
        actor=maker,
        request=w.request,
        doc_type=_doc_type(w.request),
        uploaded_file=SimpleUploadedFile("id.pdf", PDF_BYTES),
    )
    # The customer's progress page shows a request once it left the draft; the state is set
    # directly (approval is not what these tests are about).
    from transactions.models import RequestStatus, ServiceRequest

    submitted = request_create(
        actor=maker, customer=w.customer, request_type=w.request.request_type, branch=a
    )
    ServiceRequest.objects.filter(pk=submitted.pk).update(status=RequestStatus.SUBMITTED)
    w.submitted_request = submitted
    w.user_a = maker
    from bankservice.core.services import apiclient_create

    w.api_client = apiclient_create(name="core banking", scopes=["customers:read"])[0]
    from complaints.services import attachment_add

    officer = _user(f"complaint_officer.{BRANCH_A}")
    w.complaint_attachment = attachment_add(
        actor=officer,
        complaint=w.complaint,
        uploaded_file=SimpleUploadedFile("letter.pdf", PDF_BYTES),
    )
    from consultation.kb.services import attachment_add as kb_attachment_add

    w.kb_attachment = kb_attachment_add(
        actor=_user("administrator"),
        article=w.article,
        upload=SimpleUploadedFile("kb.pdf", PDF_BYTES),
    )
    from care.services import callback_create

    Customer.objects.filter(pk=w.customer.pk).update(consent_phone=True)
    w.customer.refresh_from_db()
    w.callback = callback_create(
        actor=None,
        customer=w.customer,
        branch=a,
        reason_code="security-test",
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    from care.surveys import survey_send

    w.survey = survey_send(rule=None, customer=w.customer, branch=a, trigger="service_completed")
    from dashboards.alerts import alert_rule_create

    w.alert_rule = alert_rule_create(actor=manager, branch=a, metric="waiting", threshold=10)
    w.campaign_target = CampaignTarget.objects.create(
        campaign=w.campaign, customer=w.customer, source=TargetSource.IMPORTED
    )
    from transactions.models import Bundle
    from transactions.services import bundle_start

    w.bundle_run = bundle_start(
        actor=maker, bundle=Bundle.objects.first(), customer=w.customer, branch=a, shared_data={}
    )
    assert all(value is not None for value in vars(w).values()), vars(w)
    return w


def _book(branch, actor):
    from reception.appointments import appointment_book
    from reception.models import ServiceType

    service = ServiceType.objects.filter(branch=branch, bookable=True).order_by("pk").first()
    day = timezone.localdate() + dt.timedelta(days=1)
    while day.isoweekday() > 5:
        day += dt.timedelta(days=1)
    starts = dt.datetime.combine(day, dt.time(10, 0), tzinfo=branch.zone)
    return appointment_book(
        actor=actor,
        service_type=service,
        starts_at=starts,
        customer=None,
        contact_name=MARKER,
        contact_phone="+8613912345678",
    )


def _doc_type(service_request):
    return service_request.version.documents[0]["code"]
