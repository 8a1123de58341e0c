"""factory_boy factories for the domain models. Identifiers they make are valid."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from consortium_hub.accounts.models import RoleAssignment, User
from consortium_hub.directory import identifiers
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation


def valid_ror(n: int) -> str:
    body = ""
    number = 10_000_000 + n * 7919
    for _ in range(6):
        body = identifiers.CROCKFORD[number % 32] + body
        number //= 32
    return f"0{body}{identifiers.ror_checksum(body):02d}"


def valid_orcid(n: int) -> str:
    digits = f"{1_000_000_000_00 + n:015d}"
    full = digits + identifiers.mod11_2_check_digit(digits)
    return "-".join(full[i:i + 4] for i in range(0, 16, 4))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password = factory.django.Password("correct horse battery")


class ConsortiumFactory(DjangoModelFactory):
    class Meta:
        model = Consortium

    name = factory.Sequence(lambda n: f"Consortium {n}")
    country = "GB"
    billing_currency = "GBP"
    timezone = "Europe/London"
    formed_on = dt.date(2020, 1, 1)


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    consortium = factory.SubFactory(ConsortiumFactory)
    legal_name = factory.Sequence(lambda n: f"University {n}")
    country = "GB"
    city = "London"
    ror_id = factory.Sequence(valid_ror)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    consortium = factory.LazyAttribute(lambda m: m.organisation.consortium)
    status = Membership.Status.ACTIVE
    start_date = dt.date(2024, 1, 1)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class ContactRoleFactory(DjangoModelFactory):
    class Meta:
        model = ContactRole

    contact = factory.SubFactory(ContactFactory)
    organisation = factory.LazyAttribute(lambda r: r.contact.organisation)
    role = ContactRole.Kind.MAIN


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
