"""factory_boy factories shared by the whole suite."""

import datetime as dt
import random

import factory
from django.contrib.auth import get_user_model

from bankservice.branches.models import Branch, BusinessCalendar, OpeningHours, Region
from bankservice.customers.models import Customer
from bankservice.customers.validators import birth_date_from_resident_id, resident_id_check_digit


def make_resident_id(rng: random.Random | None = None, born: dt.date | None = None) -> str:
    """A valid mainland resident id (Beijing Dongcheng area code, real check digit)."""
    rng = rng or random.Random()
    born = born or dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(20000))
    first17 = f"110101{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check_digit(first17)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"r{n}")
    name = factory.LazyAttribute(lambda o: f"Region {o.code}")


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("code",)

    code = "cn"
    name = "Mainland China"
    weekend_days = [6, 7]


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"b{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Branch {o.code}")
    region = factory.SubFactory(RegionFactory)
    calendar = factory.SubFactory(CalendarFactory)
    time_zone = "Asia/Shanghai"

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if create:
            for weekday in range(1, 6):
                OpeningHours.objects.create(
                    branch=self, weekday=weekday, opens_at="09:00", closes_at="17:00"
                )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    full_name = factory.Faker("name", locale="zh_CN")
    national_id = factory.Sequence(lambda n: make_resident_id(random.Random(n)))
    date_of_birth = factory.LazyAttribute(
        lambda o: birth_date_from_resident_id(o.national_id) if o.national_id else None
    )
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    home_branch = factory.SubFactory(BranchFactory)
    core_banking_id = factory.Sequence(lambda n: f"CB{n:08d}")
