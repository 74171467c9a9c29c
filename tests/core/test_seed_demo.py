"""seed_demo: idempotent, deterministic, valid people, a login for every role, and refused where
demo data is not allowed."""

import io

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from bankservice.branches.models import (
    Branch,
    BusinessCalendar,
    CalendarDay,
    OpeningHours,
    Region,
    Role,
    StaffMembership,
)
from bankservice.core.management.commands.seed_demo import DEMO_PASSWORD, SUPERUSER
from bankservice.customers.models import Customer, IdType, Language
from bankservice.events.models import Event

MODELS = [
    get_user_model(),
    Group,
    StaffMembership,
    Region,
    BusinessCalendar,
    CalendarDay,
    Branch,
    OpeningHours,
    Customer,
    Event,
]


@pytest.fixture
def demo_allowed(settings):
    settings.DEMO_DATA_ALLOWED = True
    # One demo hash per run; a fast hasher keeps the suite quick (the salt is fixed either way).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str, customers: int = 200) -> str:
    out = io.StringIO()
    call_command(
        "seed_demo", "--customers", str(customers), *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model._base_manager.count() for model in MODELS}


@pytest.mark.django_db
def test_seeding_twice_creates_nothing_twice(demo_allowed):
    seed()
    first = row_counts()
    output = seed()

    assert row_counts() == first
    assert first["Customer"] == 200
    assert first["Branch"] == 6
    assert "0 customers" in output
    # Demo customers bypass the services on purpose: no events about people who do not exist.
    # (Demo consultations, with contacts, and the assistant's training go through their services
    # so that their history shows.)
    assert not Event.objects.filter(customer__isnull=False).exists()


@pytest.mark.django_db
def test_same_people_on_every_run(demo_allowed):
    seed(customers=50)
    people = list(
        Customer.objects.order_by("core_banking_id").values_list(
            "core_banking_id", "full_name", "national_id", "phone", "email", "home_branch__code"
        )
    )
    Customer.objects.all().delete()

    seed(customers=80)

    again = Customer.objects.order_by("core_banking_id").values_list(
        "core_banking_id", "full_name", "national_id", "phone", "email", "home_branch__code"
    )
    assert list(again[:50]) == people
    assert people[0][0] == "DEMO0000001"


@pytest.mark.django_db
def test_every_role_has_a_demo_login(demo_allowed):
    seed(customers=0)

    held = set(StaffMembership.objects.values_list("role__name", flat=True))
    assert held == set(Role.values)
    teller = get_user_model().objects.get(username="teller.sh-lujiazui")
    assert teller.check_password(DEMO_PASSWORD)
    assert teller.memberships.get().branch.code == "sh-lujiazui"
    regional = StaffMembership.objects.get(user__username="regional_manager.east")
    assert (regional.branch, regional.region.code) == (None, "east")
    bankwide = StaffMembership.objects.get(user__username="auditor")
    assert (bankwide.branch, bankwide.region) == (None, None)
    admin = get_user_model().objects.get(username=SUPERUSER)
    assert admin.is_superuser and admin.is_staff


@pytest.mark.django_db
def test_branches_calendars_and_hours(demo_allowed):
    seed(customers=0)

    london = Branch.objects.get(code="uk-london")
    assert (london.time_zone, london.calendar.code) == ("Europe/London", "gb-eaw")
    assert Branch.objects.get(code="sh-lujiazui").calendar.code == "cn"
    cn = BusinessCalendar.objects.get(code="cn")
    assert cn.weekend_days == [6, 7]
    assert cn.days.filter(date__year=2025).count() == 28 + 5
    assert cn.days.filter(date__year=2026).count() == 33 + 6
    assert london.calendar.days.count() == 8
    weekdays = set(
        OpeningHours.objects.filter(branch__code="sh-lujiazui").values_list("weekday", flat=True)
    )
    assert weekdays == {1, 2, 3, 4, 5, 6}


@pytest.mark.django_db
def test_demo_customers_are_valid(demo_allowed):
    seed()

    customers = list(Customer.objects.all())
    for customer in customers:
        national_id, phone = customer.national_id, customer.phone
        # Validation normalises; a valid demo row comes out unchanged.
        customer.full_clean(validate_unique=False, validate_constraints=False)
        assert (customer.national_id, customer.phone) == (national_id, phone)
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
        if customer.email:
            assert customer.email.split("@")[1].startswith("example.")
    resident = [c for c in customers if c.id_type == IdType.RESIDENT_ID]
    passport = [c for c in customers if c.id_type == IdType.PASSPORT]
    assert len(resident) > len(passport) > 0
    assert {c.preferred_language for c in resident} == {Language.ZH_HANS}
    assert {c.preferred_language for c in passport} == {Language.EN}
    assert len({c.national_id for c in customers}) == len(customers)
    assert all(c.date_of_birth.year in range(1940, 2006) for c in customers)
    assert any(c.is_elderly for c in customers)


@pytest.mark.django_db
def test_if_empty_on_a_seeded_database_creates_nothing(demo_allowed):
    seed()
    before = row_counts()

    output = seed("--if-empty", customers=500)

    assert row_counts() == before
    assert "nothing created" in output
    assert "teller.sh-lujiazui" in output


@pytest.mark.django_db
def test_if_empty_on_an_empty_database_seeds(demo_allowed):
    seed("--if-empty", customers=10)

    assert Customer.objects.count() == 10


@pytest.mark.django_db
def test_prints_the_logins_table(demo_allowed):
    output = seed(customers=0)

    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("username"))
    assert header.split() == ["username", "role", "where", "password"]
    teller_row = next(line for line in lines if line.startswith("teller.sh-lujiazui "))
    assert teller_row.split() == [
        "teller.sh-lujiazui",
        "teller",
        "branch",
        "sh-lujiazui",
        DEMO_PASSWORD,
    ]
    assert any(line.startswith(f"{SUPERUSER} ") for line in lines)
    assert "http://127.0.0.1:8000" in output
    # The customers' own pages, by branch code: booking and phone check-in.
    assert any(
        line.split() == ["sh-lujiazui", "http://127.0.0.1:8000/book/sh-lujiazui/"] for line in lines
    )
    assert any(
        line.split() == ["sh-lujiazui", "http://127.0.0.1:8000/checkin/sh-lujiazui/"]
        for line in lines
    )


@pytest.mark.django_db
def test_a_changed_password_is_kept_and_not_printed(demo_allowed):
    seed(customers=0)
    auditor = get_user_model().objects.get(username="auditor")
    auditor.set_password("my own secret 42")
    auditor.save()

    output = seed(customers=0)

    auditor.refresh_from_db()
    assert auditor.check_password("my own secret 42")
    auditor_row = next(line for line in output.splitlines() if line.startswith("auditor "))
    assert DEMO_PASSWORD not in auditor_row
    assert "changed" in auditor_row


@pytest.mark.django_db
def test_refused_where_demo_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        seed()

    assert Region.objects.count() == 0
    assert Customer.objects.count() == 0
