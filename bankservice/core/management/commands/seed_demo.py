"""Fill an empty database with a demo bank: regions, calendars, branches, staff and customers.

Deterministic (fixed seeds) and idempotent: running it again creates nothing twice and leaves
rows someone has since edited alone. Refused unless settings.DEMO_DATA_ALLOWED is true.

The Chinese calendars are the State Council's holiday notices (国办发明电〔2024〕12号 for 2025,
国办发明电〔2025〕7号 for 2026); the English one is the gov.uk list of 2026 bank holidays.
"""

import datetime as dt
import random
import sys
import time
from dataclasses import dataclass
from importlib import resources

import phonenumbers
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from bankservice.branches.models import Branch, BusinessCalendar, OpeningHours, Region, Role
from bankservice.branches.services import calendar_import, membership_grant
from bankservice.customers.models import Customer, IdType, Language, Segment
from bankservice.customers.validators import resident_id_check_digit

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed for everyone to use; demo only
# A fixed salt makes the demo hash reproducible, so the logins table can tell whether a user
# still has the demo password without hashing once per user. 24 characters keep Django from
# asking to re-hash it at login (salt entropy >= 128 bits).
DEMO_PASSWORD_SALT = "bankserviceDemoSalt2026x"  # noqa: S105 - a salt, not a secret
DEMO_SEED = 2026
DEMO_ID_PREFIX = "DEMO"
DEFAULT_CUSTOMERS = 3000
BATCH_SIZE = 500
URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoBranch:
    code: str
    name: str
    region: str
    address: str
    area_codes: tuple[str, ...] = ()  # resident-id area codes of locally born customers
    calendar: str = "cn"
    time_zone: str = "Asia/Shanghai"
    saturday: bool = False  # also open Saturday morning
    weight: int = 10  # share of the Chinese customers homed here


REGIONS = [("east", "华东 East"), ("north", "华北 North"), ("uk", "London")]
CALENDARS = [
    ("cn", "中国大陆 Mainland China", [6, 7], [("cn-2025.csv", "csv"), ("cn-2026.csv", "csv")]),
    ("gb-eaw", "England and Wales", [6, 7], [("gb-eaw-2026.ics", "ical")]),
]
BRANCHES = [
    DemoBranch(
        "sh-lujiazui",
        "上海陆家嘴支行",
        "east",
        "上海市浦东新区陆家嘴环路1288号",
        area_codes=("310115", "310101"),
        saturday=True,
        weight=14,
    ),
    DemoBranch(
        "sh-xujiahui",
        "上海徐家汇支行",
        "east",
        "上海市徐汇区漕溪北路88号",
        area_codes=("310104", "310101"),
        weight=12,
    ),
    DemoBranch(
        "bj-xidan",
        "北京西单支行",
        "north",
        "北京市西城区西单北大街133号",
        area_codes=("110102", "110101"),
        saturday=True,
    ),
    DemoBranch(
        "bj-guomao",
        "北京国贸支行",
        "north",
        "北京市朝阳区建国门外大街1号",
        area_codes=("110105", "110101"),
    ),
    DemoBranch(
        "hz-wulin",
        "杭州武林支行",
        "east",
        "浙江省杭州市拱墅区延安路530号",
        area_codes=("330105", "330106"),
        saturday=True,
        weight=8,
    ),
    DemoBranch(
        "uk-london",
        "伦敦分行 London Branch",
        "uk",
        "88 Cheapside, London EC2V 6EH, United Kingdom",
        calendar="gb-eaw",
        time_zone="Europe/London",
        weight=0,
    ),
]
# Customers born elsewhere in China (Nanjing, Guangzhou, Chengdu, Wuhan, Jinan, Zhengzhou).
MIGRANT_AREA_CODES = ("320102", "440106", "510104", "420102", "370102", "410105")
BRANCH_ROLES = [
    Role.GREETER,
    Role.TELLER,
    Role.ADVISOR,
    Role.PROCESSOR,
    Role.APPROVER,
    Role.COMPLAINT_OFFICER,
    Role.CARE_AGENT,
    Role.CARE_LEAD,
    Role.BRANCH_MANAGER,
]
STAFFED_BRANCHES = ("sh-lujiazui", "sh-xujiahui")
BANKWIDE_USERS = [
    ("hq_manager", Role.HQ_MANAGER),
    ("auditor", Role.AUDITOR),
    ("administrator", Role.ADMIN),
]
SUPERUSER = "admin"
# Prefixes of Chinese mobile numbers in wide use; each generated number is still checked.
CN_MOBILE_PREFIXES = [
    str(prefix)
    for prefix in (
        *range(130, 140),
        *range(150, 154),
        *range(155, 160),
        166,
        173,
        *range(175, 179),
        *range(180, 190),
        191,
        198,
        199,
    )
]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    branch: str | None = None
    region: str | None = None

    @property
    def where(self) -> str:
        if self.branch:
            return f"branch {self.branch}"
        if self.region:
            return f"region {self.region}"
        return "whole bank"


def staff_specs() -> list[StaffSpec]:
    """Every demo login except the superuser, in the order the table lists them."""
    specs = [
        StaffSpec(f"{role.value}.{branch}", role.value, branch=branch)
        for branch in STAFFED_BRANCHES
        for role in BRANCH_ROLES
    ]
    specs += [
        StaffSpec(f"regional_manager.{code}", Role.REGIONAL_MANAGER.value, region=code)
        for code, _name in REGIONS
    ]
    specs += [StaffSpec(username, role.value) for username, role in BANKWIDE_USERS]
    return specs


class Command(BaseCommand):
    help = (
        "Create demo regions, calendars, branches, staff logins and customers (idempotent). "
        "Only where settings.DEMO_DATA_ALLOWED is on (it follows DEBUG by default)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"How many demo customers (default {DEFAULT_CUSTOMERS}).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the demo data is already there (still print the logins).",
        )

    def handle(self, *args, customers, if_empty, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Demo data is not allowed here: set DEMO_DATA_ALLOWED=true (it defaults to DEBUG) "
                "only on a development or demo database, never in production."
            )
        if customers < 0:
            raise CommandError("--customers must be 0 or more.")
        demo_hash = make_password(DEMO_PASSWORD, salt=DEMO_PASSWORD_SALT)
        if if_empty and self._already_seeded():
            self.stdout.write("Demo data already present; nothing created.")
        else:
            started = time.perf_counter()
            with transaction.atomic():
                counts = self._seed(customers, demo_hash)
            seconds = time.perf_counter() - started
            summary = ", ".join(f"{n} {what}" for what, n in counts.items())
            self.stdout.write(
                self.style.SUCCESS(f"Demo data ready in {seconds:.1f}s. New: {summary}.")
            )
        self._print_logins(demo_hash)

    def _print_logins(self, demo_hash: str) -> None:
        rows = _login_rows(demo_hash)
        if not rows:
            return
        self.stdout.write("\nDemo logins:")
        for line in _table([("username", "role", "where", "password"), *rows]):
            self.stdout.write(line)
        self.stdout.write(f"\nOpen {URL} and sign in with one of these.")
        for app_config in apps.get_app_configs():
            links = getattr(app_config, "demo_links", None)
            for line in links(base_url=URL) if links else ():
                self.stdout.write(line)

    def _already_seeded(self) -> bool:
        # The demo regions or customers mark a seeded database. A user named admin does not: a
        # developer may have created one with createsuperuser before asking for demo data.
        return (
            Region.objects.filter(code__in=[code for code, _name in REGIONS]).exists()
            or Customer.objects.filter(core_banking_id__startswith=DEMO_ID_PREFIX).exists()
        )

    # --- Seeding -----------------------------------------------------------------------------

    def _seed(self, customer_count: int, demo_hash: str) -> dict[str, int]:
        counts = {}
        regions = {}
        for code, name in REGIONS:
            regions[code], _created = Region.objects.get_or_create(
                code=code, defaults={"name": name}
            )
        calendars = {}
        days_loaded = 0
        for code, name, weekend, files in CALENDARS:
            calendars[code], _created = BusinessCalendar.objects.get_or_create(
                code=code, defaults={"name": name, "weekend_days": weekend}
            )
            for filename, fmt in files:
                content = (
                    resources.files("bankservice.branches").joinpath("data").joinpath(filename)
                )
                result = calendar_import(
                    calendar=calendars[code], content=content.read_text("utf-8"), fmt=fmt
                )
                days_loaded += result.created
        counts["calendar days"] = days_loaded
        branches = {}
        new_branches = 0
        for spec in BRANCHES:
            branches[spec.code], created = Branch.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "region": regions[spec.region],
                    "calendar": calendars[spec.calendar],
                    "time_zone": spec.time_zone,
                    "address": spec.address,
                },
            )
            new_branches += created
            if created:  # hours an administrator has changed since are theirs to keep
                self._opening_hours(branches[spec.code], saturday=spec.saturday)
        counts["branches"] = new_branches
        counts["users"] = self._staff(branches, regions, demo_hash)
        counts["customers"] = self._customers(customer_count, branches)
        # Stage apps add their own demo data (the kernel does not import them).
        for app_config in apps.get_app_configs():
            seed = getattr(app_config, "seed_demo", None)
            if seed is not None:
                counts.update(seed(branches=list(branches.values())))
        return counts

    def _opening_hours(self, branch: Branch, *, saturday: bool) -> None:
        hours = [(weekday, dt.time(9), dt.time(17)) for weekday in range(1, 6)]
        if saturday:
            hours.append((OpeningHours.Weekday.SATURDAY, dt.time(9), dt.time(12)))
        for weekday, opens_at, closes_at in hours:
            OpeningHours.objects.get_or_create(
                branch=branch, weekday=weekday, opens_at=opens_at, defaults={"closes_at": closes_at}
            )

    def _staff(self, branches, regions, demo_hash: str) -> int:
        User = get_user_model()
        names = Faker("zh_CN")
        names.seed_instance(DEMO_SEED)
        english = Faker("en_GB")
        english.seed_instance(DEMO_SEED)
        created_count = 0
        for spec in staff_specs():
            fake = english if spec.region == "uk" else names
            user, created = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "first_name": fake.first_name(),
                    "last_name": fake.last_name(),
                    "email": f"{spec.username}@bankservice.example",
                    # Only new users get the demo password; one someone changed stays changed.
                    "password": demo_hash,
                },
            )
            created_count += created
            membership_grant(
                user=user,
                role=spec.role,
                branch=branches.get(spec.branch),
                region=regions.get(spec.region),
            )
        _admin, created = User.objects.get_or_create(
            username=SUPERUSER,
            defaults={
                "first_name": "System",
                "last_name": "Administrator",
                "email": f"{SUPERUSER}@bankservice.example",
                "is_staff": True,
                "is_superuser": True,
                "password": demo_hash,
            },
        )
        return created_count + created

    def _customers(self, count: int, branches: dict[str, Branch]) -> int:
        # Demo rows bypass customer_create on purpose: thousands of customers in seconds, and no
        # customer.created events, webhooks or notifications for people who do not exist.
        demo = Customer.objects.filter(core_banking_id__startswith=DEMO_ID_PREFIX)
        before = demo.count()
        people = DemoPeople(branches)
        with tqdm(total=count, desc="customers", unit="", file=sys.stderr, disable=None) as bar:
            batch = []
            for number in range(1, count + 1):
                batch.append(people.customer(number))
                if len(batch) == BATCH_SIZE or number == count:
                    # ignore_conflicts: customers of an earlier run (same core_banking_id) stay.
                    Customer.objects.bulk_create(batch, ignore_conflicts=True)
                    bar.update(len(batch))
                    batch = []
        return demo.count() - before


class DemoPeople:
    """Deterministic made-up customers: customer number n is the same person on every run."""

    def __init__(self, branches: dict[str, Branch]):
        self.rng = random.Random(DEMO_SEED)
        self.zh = Faker("zh_CN")
        self.zh.seed_instance(DEMO_SEED)
        self.en = Faker("en_GB")
        self.en.seed_instance(DEMO_SEED)
        self.today = timezone.localdate()
        self.specs = [spec for spec in BRANCHES if spec.weight]
        self.branches = branches
        self.used_ids: set[str] = set()
        self.family_phones: dict[str, str] = {}  # surname -> a phone a relative already gave

    def customer(self, number: int) -> Customer:
        rng = self.rng
        english = rng.random() < 0.15
        female = rng.random() < 0.5
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(66 * 365))
        age = self.today.year - born.year
        customer = Customer(
            core_banking_id=f"{DEMO_ID_PREFIX}{number:07d}",
            date_of_birth=born,
            is_elderly=age >= 65,
            has_disability=rng.random() < 0.02,
            is_pregnant=female and 22 <= age <= 42 and rng.random() < 0.04,
            segment=rng.choices(
                [Segment.STANDARD, Segment.PRIORITY, Segment.PRIVATE], weights=[85, 12, 3]
            )[0],
        )
        if english:
            self._english(customer, female)
        else:
            self._chinese(customer, female, born)
        customer.consent_sms = rng.random() < 0.75
        customer.consent_phone = rng.random() < 0.6
        customer.consent_email = bool(customer.email) and rng.random() < 0.5
        return customer

    def _chinese(self, customer: Customer, female: bool, born: dt.date) -> None:
        rng, fake = self.rng, self.zh
        spec = rng.choices(self.specs, weights=[s.weight for s in self.specs])[0]
        surname = fake.last_name()
        given = fake.first_name_female() if female else fake.first_name_male()
        customer.full_name = surname + given
        customer.home_branch = self.branches[spec.code]
        customer.preferred_language = Language.ZH_HANS
        customer.id_type = IdType.RESIDENT_ID
        area = rng.choice(spec.area_codes) if rng.random() < 0.7 else rng.choice(MIGRANT_AREA_CODES)
        while True:
            # The 17th digit is odd for men and even for women (GB 11643-1999).
            sequence = rng.randrange(500) * 2 + (0 if female else 1)
            first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
            resident_id = first17 + resident_id_check_digit(first17)
            if resident_id not in self.used_ids:
                break
        self.used_ids.add(resident_id)
        customer.national_id = resident_id
        # Some relatives share one number, typically an elderly parent giving a child's phone.
        shared = self.family_phones.get(surname)
        if shared and rng.random() < (0.15 if customer.is_elderly else 0.03):
            customer.phone = shared
        else:
            customer.phone = self._phone("+86", lambda: rng.choice(CN_MOBILE_PREFIXES), 8)
            self.family_phones[surname] = customer.phone
        # example.* domains (RFC 2606): a demo e-mail can never reach a real mailbox.
        customer.email = fake.safe_email() if rng.random() < 0.35 else ""

    def _english(self, customer: Customer, female: bool) -> None:
        rng, fake = self.rng, self.en
        given = fake.first_name_female() if female else fake.first_name_male()
        customer.full_name = f"{given} {fake.last_name()}"
        customer.preferred_language = Language.EN
        customer.id_type = IdType.PASSPORT
        while True:
            passport = f"{rng.randrange(10**8, 10**9)}"  # British passports: nine digits
            if passport not in self.used_ids:
                break
        self.used_ids.add(passport)
        customer.national_id = passport
        in_london = rng.random() < 0.6
        if in_london:
            customer.home_branch = self.branches["uk-london"]
            customer.phone = self._phone("+44", lambda: "7" + str(rng.randrange(4, 10)), 8)
        else:  # expatriates banking in China use a Chinese number
            spec = rng.choices(self.specs, weights=[s.weight for s in self.specs])[0]
            customer.home_branch = self.branches[spec.code]
            customer.phone = self._phone("+86", lambda: rng.choice(CN_MOBILE_PREFIXES), 8)
        customer.email = fake.safe_email() if rng.random() < 0.7 else ""

    def _phone(self, country: str, prefix, digits: int) -> str:
        while True:
            number = f"{country}{prefix()}{self.rng.randrange(10**digits):0{digits}d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                return number


def _login_rows(demo_hash: str) -> list[tuple[str, str, str, str]]:
    """username, role, where, password for every demo login that exists."""
    specs = {spec.username: spec for spec in staff_specs()}
    order = [SUPERUSER, *specs]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=order)}
    rows = []
    for username in order:
        user = users.get(username)
        if user is None:
            continue
        spec = specs.get(username)
        role, where = (spec.role, spec.where) if spec else ("superuser", "whole bank, Django admin")
        password = DEMO_PASSWORD if user.password == demo_hash else "(changed since seeding)"
        rows.append((username, role, where, password))
    return rows


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return [line.rstrip() for line in lines]
