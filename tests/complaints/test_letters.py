"""Letters to the complainant: per pack and language, the regulators' wording, the channel
(e-mail, SMS with the progress link, or the post; consent respected), kept with the case."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import engines

from bankservice.notify.models import Notification
from bankservice.notify.rendering import render_message
from complaints import letters
from complaints.models import Letter, LetterKind, PackClock, RulePack
from complaints.services import (
    complaint_acknowledge,
    complaint_create,
    complaint_decide,
    extension_request,
    pack_assign,
    pack_copy,
)
from tests.factories import CustomerFactory

from .conftest import LONDON, NEW_YORK, SHANGHAI, at

pytestmark = pytest.mark.django_db

FOS = "Financial Ombudsman Service"
FOS_ZH = "金融申诉专员"


@pytest.fixture
def emailable(complainant):
    complainant.consent_email = True
    complainant.save()
    return complainant


def decide(complaint, actor, **values):
    values = {"outcome": "upheld", "reasons": "The ATM was faulty.", **values}
    return complaint_decide(actor=actor, complaint=complaint, **values)


def only_letter(complaint) -> Letter:
    return Letter.objects.get(complaint=complaint)


# --- CN -----------------------------------------------------------------------------------------


def test_a_cn_final_response_in_chinese_gives_the_review_right_and_no_fos(
    make_complaint, emailable, branch_manager, time_machine
):
    time_machine.move_to(at(SHANGHAI, 2026, 9, 28, 10), tick=False)
    complaint = make_complaint()
    time_machine.move_to(at(SHANGHAI, 2026, 10, 9, 10), tick=False)
    decide(complaint, branch_manager, redress_amount=Decimal("200.00"))

    letter = only_letter(complaint)
    assert (letter.kind, letter.language, letter.channel) == ("final_response", "zh-hans", "email")
    assert complaint.reference in letter.subject
    assert letter.body.startswith(f"{emailable.full_name}：")
    assert "处理决定：您的投诉成立。" in letter.body
    assert "The ATM was faulty." in letter.body
    assert "CNY 200.00" in letter.body
    # The review (核查) right, dated 30 days after the decision (2026-10-09 -> 2026-11-08, a
    # Sunday: the CN pack moves a period's last day to the next working day).
    assert "30日内（即2026年11月9日前）向我行申请核查" in letter.body
    assert "12378" in letter.body and "调解" in letter.body
    assert FOS not in letter.body and FOS_ZH not in letter.body
    assert letter.sent_by == branch_manager


def test_a_cn_final_response_in_english_for_an_english_speaking_customer(
    make_complaint, emailable, branch_manager
):
    emailable.preferred_language = "en"
    emailable.save()
    complaint = decide(make_complaint(), branch_manager, outcome="rejected")

    letter = only_letter(complaint)
    assert letter.language == "en"
    assert letter.subject == f"Our decision on your complaint {complaint.reference}"
    assert "we do not uphold your complaint" in letter.body
    assert "This decision involves no payment to you." in letter.body
    assert "ask us for a review (核查) within 30 days" in letter.body
    assert FOS not in letter.body


def test_a_cn_acknowledgement_names_the_decision_date(
    make_complaint, emailable, branch_manager, time_machine
):
    # Received the day before the National Day holiday: 15 days end on 2026-10-15 (a working day).
    time_machine.move_to(at(SHANGHAI, 2026, 9, 30, 16), tick=False)
    complaint = complaint_acknowledge(actor=branch_manager, complaint=make_complaint())

    letter = only_letter(complaint)
    assert letter.kind == "acknowledgement"
    assert "已于2026年9月30日收到您的投诉" in letter.body
    assert "于2026年10月15日前作出处理决定" in letter.body


def test_a_cn_extension_notice_gives_the_reason_and_the_new_date(
    make_complaint, emailable, branch_manager, time_machine, cn_pack
):
    time_machine.move_to(at(SHANGHAI, 2026, 3, 2, 10), tick=False)
    complaint = make_complaint()
    extension = extension_request(
        actor=branch_manager,
        complaint=complaint,
        clock=PackClock.objects.get(pack=cn_pack, code="extension"),
        reason="需要调取ATM监控录像",
    )

    letter = only_letter(complaint)
    assert (letter.kind, letter.extension) == ("extension_notice", extension)
    assert "延期告知" in letter.subject
    assert "延期理由：需要调取ATM监控录像" in letter.body
    assert "于2026年4月1日前作出处理决定" in letter.body  # 30 days after 2 March


# --- UK -----------------------------------------------------------------------------------------


@pytest.fixture
def london(london_branch, uk_pack):
    pack_assign(pack=uk_pack, branch=london_branch, actor=None)
    return london_branch


@pytest.fixture
def london_officer(london, make_staff):
    return make_staff("complaint_officer", branch=london)


def london_complaint(branch, category, *, language="en", **values):
    values = {
        "actor": None,
        "branch": branch,
        "channel": "online_form",
        "category": category,
        "description": "A card payment was taken twice.",
        "contact_name": "Alice Smith",
        "contact_email": "alice@example.co.uk",
        **values,
    }
    complaint = complaint_create(**values)
    complaint.language = language
    complaint.save(update_fields=["language"])
    return complaint


@pytest.mark.parametrize(
    ("language", "wording"),
    [
        (
            "en",
            [
                "this is our final response",
                FOS,
                "six months of the date of this letter (20 March 2026)",
            ],
        ),
        ("zh-hans", ["最终答复", FOS_ZH, "本函日期（2026年3月20日）起六个月内"]),
    ],
)
def test_a_uk_final_response_carries_the_fos_referral_rights(
    london, london_officer, category, time_machine, language, wording
):
    time_machine.move_to(at(LONDON, 2026, 3, 2, 10), tick=False)
    complaint = london_complaint(london, category, language=language)
    time_machine.move_to(at(LONDON, 2026, 3, 20, 10), tick=False)  # after the summary window
    decide(complaint, london_officer, outcome="partially_upheld", redress_amount=Decimal("25"))

    letter = only_letter(complaint)
    assert (letter.kind, letter.language) == ("final_response", language)
    for text in wording:
        assert text in letter.body
    assert "GBP 25.00" in letter.body
    # A contact who gave an e-mail address with the complaint is answered by e-mail.
    assert letter.channel == "email"
    assert letter.notification.contact_name == "Alice Smith"


def test_a_uk_complaint_resolved_within_three_business_days_gets_a_summary_resolution(
    london, london_officer, category, time_machine
):
    time_machine.move_to(at(LONDON, 2026, 3, 2, 10), tick=False)
    complaint = london_complaint(london, category)
    time_machine.move_to(at(LONDON, 2026, 3, 4, 10), tick=False)
    decide(complaint, london_officer)

    letter = only_letter(complaint)
    assert letter.kind == "summary_resolution"
    assert "we consider it resolved" in letter.body
    assert FOS in letter.body


def test_a_uk_holding_reply_gives_reasons_the_final_date_and_the_fos_rights(
    london, london_officer, category, time_machine, uk_pack
):
    # Payment services across Easter 2026 (Good Friday 3 April, Easter Monday 6 April).
    time_machine.move_to(at(LONDON, 2026, 3, 30, 10), tick=False)
    complaint = london_complaint(london, category, is_payment_services=True)
    extension_request(
        actor=london_officer,
        complaint=complaint,
        clock=PackClock.objects.get(pack=uk_pack, code="psd_extended_final_response"),
        reason="We are waiting for the card scheme's chargeback report.",
    )

    letter = only_letter(complaint)
    assert letter.kind == "extension_notice"
    assert "Why we need more time: We are waiting for the card scheme" in letter.body
    # 35 business days after 30 March, without Good Friday, Easter Monday and the early May
    # bank holiday (4 May): the end of 21 May.
    assert "final response by 21 May 2026" in letter.body
    assert FOS in letter.body


# --- US -----------------------------------------------------------------------------------------


def test_a_us_extension_notice_says_in_progress(new_york_branch, us_pack, make_staff, category):
    pack_assign(pack=us_pack, branch=new_york_branch, actor=None)
    officer = make_staff("complaint_officer", branch=new_york_branch)
    customer = CustomerFactory(
        home_branch=new_york_branch, preferred_language="en", email="", consent_sms=True
    )
    complaint = complaint_create(
        actor=officer,
        branch=new_york_branch,
        channel="phone",
        category=category,
        description="Overdraft fee charged in error.",
        customer=customer,
        received_at=dt.datetime.now(NEW_YORK) - dt.timedelta(days=3),
    )
    extension_request(
        actor=officer,
        complaint=complaint,
        clock=PackClock.objects.get(pack=us_pack, code="cfpb_final_response"),
        reason="We asked the merchant for records.",
    )

    letter = only_letter(complaint)
    assert letter.subject == f"Your complaint {complaint.reference} is in progress"
    assert "is in progress" in letter.body
    assert FOS not in letter.body
    # No e-mail address: an SMS with the subject and a link, not the letter's body.
    assert letter.channel == "sms"
    sms = letter.notification
    assert sms.channel == "sms" and sms.template == "complaints.letter"
    assert "body" not in sms.context
    assert sms.context["subject"] == letter.subject


# --- Channels ------------------------------------------------------------------------------------


def test_without_consent_the_letter_is_kept_for_the_post(
    make_complaint, complainant, branch_manager
):
    complainant.consent_email = complainant.consent_sms = False
    complainant.save()
    complaint = decide(make_complaint(), branch_manager)

    letter = only_letter(complaint)
    assert (letter.channel, letter.notification) == ("post", None)
    assert not Notification.objects.filter(template="complaints.letter").exists()
    assert letter.body  # kept as it would have been sent, to be printed


def test_an_sms_consent_without_e_mail_consent_sends_an_sms_with_the_progress_link(
    make_complaint, complainant, branch_manager, settings
):
    settings.RECEPTION_PUBLIC_BASE_URL = "https://bank.example"
    complainant.consent_email, complainant.consent_sms = False, True
    complainant.save()
    complaint = decide(make_complaint(), branch_manager)

    letter = only_letter(complaint)
    assert letter.channel == "sms"
    sms = letter.notification
    assert (sms.customer, sms.status) == (complainant, "pending")
    rendered = render_message(
        key="complaints.letter",
        channel="sms",
        language="zh-hans",
        context={**sms.context, "customer_name": "李娜", "branch_name": "A"},
    )
    assert sms.context["progress_url"] in rendered.body or not sms.context["progress_url"]
    assert len(rendered.body) <= 300


def test_a_contact_s_phone_gets_an_sms_unless_it_is_no_phone_number(
    cn_pack, branch_a, branch_manager, category
):
    def contact_complaint(phone):
        return complaint_create(
            actor=None,
            branch=branch_a,
            channel="phone",
            category=category,
            description="Called three times, nobody answered.",
            contact_name="陈先生",
            contact_phone=phone,
        )

    texted = decide(contact_complaint("138 0013 8000"), branch_manager)
    posted = decide(contact_complaint("call the shop"), branch_manager)

    sms = only_letter(texted)
    assert sms.channel == "sms"
    assert sms.notification.contact_name == "陈先生"
    assert sms.notification.recipient_masked.startswith("+86")
    assert (only_letter(posted).channel, only_letter(posted).notification) == ("post", None)


def test_the_e_mail_is_the_letter_as_kept(make_complaint, emailable, branch_manager):
    complaint = decide(make_complaint(), branch_manager)

    letter = only_letter(complaint)
    email = letter.notification
    assert email.dedupe_key == f"complaints:letter:{letter.pk}"
    rendered = render_message(
        key="complaints.letter", channel="email", language="zh-hans", context=email.context
    )
    assert rendered.subject == letter.subject
    assert rendered.body == letter.body


def test_the_letter_is_recorded_with_ids_only(make_complaint, emailable, branch_manager):
    from bankservice.events.models import Event

    complaint = decide(make_complaint(), branch_manager)
    letter = only_letter(complaint)
    event = Event.objects.get(type="complaints.letter_sent")
    assert event.payload == {
        "complaint_id": complaint.pk,
        "letter_id": letter.pk,
        "kind": "final_response",
        "channel": "email",
        "notification_id": letter.notification_id,
        "extension_id": None,
    }


# --- Templates and fallbacks ---------------------------------------------------------------------


def test_a_copied_pack_uses_its_regulator_s_templates(cn_pack, make_complaint, branch_a):
    copy = pack_copy(pack=cn_pack, actor=None, code="cn-internal")
    assert letters.template_names(copy, "final_response", "en") == [
        "complaints/letters/cn-internal/final_response.en.txt",
        "complaints/letters/cn/final_response.en.txt",
        "complaints/letters/default/final_response.en.txt",
    ]
    pack_assign(pack=copy, branch=branch_a, actor=None)
    complaint = make_complaint()
    _subject, body = letters.letter_render(complaint=complaint, kind="acknowledgement")
    assert "《银行业保险业消费投诉处理管理办法》" in body


def test_a_pack_of_another_jurisdiction_falls_back_to_the_default_letters(
    cn_pack, make_complaint, branch_a
):
    other = pack_copy(pack=cn_pack, actor=None, code="sg")
    RulePack.objects.filter(pk=other.pk).update(jurisdiction="other")
    pack_assign(pack=RulePack.objects.get(pk=other.pk), branch=branch_a, actor=None)
    complaint = make_complaint()
    subject, body = letters.letter_render(
        complaint=complaint, kind="acknowledgement", language="en"
    )
    assert subject == f"We have received your complaint {complaint.reference}"
    assert "Measures for Handling" not in body  # the CN wording is the cn folder's only


@pytest.mark.parametrize("language", letters.LANGUAGES)
@pytest.mark.parametrize("kind", LetterKind.values)
def test_every_kind_has_a_default_letter_in_both_languages(kind, language):
    engine = engines["django"]
    template = engine.get_template(f"complaints/letters/default/{kind}.{language}.txt")
    assert template.template.source.startswith("Subject: ")


@pytest.mark.parametrize("pack", ["cn", "uk", "us"])
@pytest.mark.parametrize("kind", LetterKind.values)
def test_every_pack_and_kind_renders_in_both_languages_without_leftovers(
    pack, kind, make_complaint, branch_a, uk_pack, us_pack, branch_manager
):
    pack_assign(pack=RulePack.objects.get(code=pack), branch=branch_a, actor=None)
    complaint = decide(make_complaint(), branch_manager, send_letter=False)
    for language in letters.LANGUAGES:
        subject, body = letters.letter_render(complaint=complaint, kind=kind, language=language)
        assert subject and "\n" not in subject
        assert complaint.reference in subject
        assert "{{" not in body and "{%" not in body and "None" not in body
        assert "\n\n\n" not in body
        assert (FOS in body or FOS_ZH in body) == (
            # The holding reply too: DISP 1.6.2R(2) asks the delay letter for the referral rights.
            pack == "uk" and kind in ("final_response", "summary_resolution", "extension_notice")
        )


def test_the_language_is_the_contact_s_or_the_customer_s(make_complaint, complainant):
    complaint = make_complaint()
    assert letters.letter_language(complaint) == "zh-hans"
    complainant.preferred_language = "en"
    complainant.save()
    complaint.refresh_from_db()
    assert letters.letter_language(complaint) == "en"
    complaint.customer = None
    complaint.language = "en-gb"
    assert letters.letter_language(complaint) == "en"
