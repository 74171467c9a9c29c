"""A consultation closed with "complaint raised" becomes a complaint whose clocks start when the
consultation closed (consultation's hand-off registry, docs/handoffs.md)."""

from bankservice.branches.models import Role
from bankservice.customers.models import Product
from complaints.models import Complaint
from complaints.selectors import complaint_clocks
from consultation.services import consultation_close, consultation_start


def test_a_consultation_closed_with_a_complaint_raises_one(
    cn_pack, make_staff, branch_a, complainant, django_capture_on_commit_callbacks
):
    advisor = make_staff(Role.ADVISOR, branch=branch_a, username="advisor")
    product = Product.objects.create(
        code="credit-card", family="card", name_zh="信用卡", name_en="Credit card"
    )
    consultation = consultation_start(
        actor=advisor,
        channel="phone",
        branch=branch_a,
        customer=complainant,
        question="Why was I charged an annual fee I was told was waived?",
    )
    consultation.products.add(product)
    with django_capture_on_commit_callbacks(execute=True):
        consultation_close(
            actor=advisor,
            consultation=consultation,
            outcome="complaint",
            outcome_note="Customer wants the fee refunded.",
        )

    consultation.refresh_from_db()
    assert consultation.handoff_status == "done"
    complaint = Complaint.objects.get()
    assert consultation.handoff_ref == f"complaints.complaint:{complaint.pk}"
    assert complaint.customer == complainant
    assert complaint.branch == branch_a
    assert complaint.channel == "phone"
    assert complaint.product == product
    assert complaint.category.code == "service"
    assert complaint.received_at == consultation.ended_at
    assert complaint.description.startswith("Customer wants the fee refunded.")
    assert "annual fee" in complaint.description
    assert complaint.created_by == advisor
    # The CN pack's decision clock runs from the close.
    assert [d.kind for d in complaint_clocks(complaint)] == ["complaint.decision"]


def test_a_contact_without_a_way_to_reach_them_fails_the_hand_off_visibly(
    cn_pack, make_staff, branch_a, django_capture_on_commit_callbacks
):
    advisor = make_staff(Role.ADVISOR, branch=branch_a, username="advisor")
    consultation = consultation_start(
        actor=advisor, channel="chat", branch=branch_a, contact_name="Wang Fang"
    )
    with django_capture_on_commit_callbacks(execute=True):
        consultation_close(actor=advisor, consultation=consultation, outcome="complaint")

    consultation.refresh_from_db()
    assert consultation.handoff_status == "failed"
    assert "phone number or an e-mail" in consultation.handoff_error
    assert not Complaint.objects.exists()
