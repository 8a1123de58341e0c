"""`make demo`'s data: two consortia, ~40 members with valid identifiers, contacts in every role, one user per role."""

import pytest

from consortium_hub.accounts.models import RoleAssignment
from consortium_hub.core.roles import Role
from consortium_hub.directory import identifiers
from consortium_hub.directory.demo import load_demo
from consortium_hub.directory.models import Consortium, ContactRole, Organisation
from consortium_hub.onboarding.models import Plan

pytestmark = pytest.mark.django_db


def test_demo_data_is_realistic_and_loads_once():
    sign_ins = load_demo()
    assert sorted(Consortium.objects.values_list("country", "billing_currency", "timezone")) == [
        ("AU", "AUD", "Australia/Brisbane"), ("GB", "GBP", "Europe/London")]
    assert Organisation.objects.count() == 40
    assert all(identifiers.is_valid_ror(ror) for ror in Organisation.objects.values_list("ror_id", flat=True))
    assert set(ContactRole.objects.values_list("role", flat=True)) == set(ContactRole.Kind.values)
    assert set(RoleAssignment.objects.values_list("role", flat=True)) == set(Role.values)
    assert len(sign_ins) == len(Role.values) + 1
    assert Plan.objects.filter(kind="member").exists() and Plan.objects.filter(kind="consortium").exists()
    load_demo()
    assert Organisation.objects.count() == 40
