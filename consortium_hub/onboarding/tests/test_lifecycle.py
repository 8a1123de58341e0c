"""The daily membership roll-forward: dates, plans, pins, and catching up missed days once."""

import datetime as dt

import pytest

from consortium_hub.directory import services as directory
from consortium_hub.directory.models import Membership
from consortium_hub.onboarding import lifecycle
from consortium_hub.onboarding.models import Plan, PlanKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def onboarding_member(cast):
    m = cast.membership_a
    Membership.objects.filter(pk=m.pk).update(status=Membership.Status.ONBOARDING, start_date=dt.date(2026, 12, 1))
    m.refresh_from_db()
    return m


def _plan(membership, status=Plan.Status.OPEN):
    return Plan.objects.create(consortium=membership.consortium, membership=membership, kind=PlanKind.MEMBER,
                               title="Onboarding", start_date=membership.start_date, status=status)


def test_onboarding_becomes_active_at_start_only_when_the_plan_is_complete(onboarding_member):
    plan = _plan(onboarding_member)
    assert lifecycle.roll_memberships_forward(day=dt.date(2026, 12, 5)) == []
    plan.status = Plan.Status.COMPLETE
    plan.save()
    assert lifecycle.roll_memberships_forward(day=dt.date(2026, 11, 30)) == []  # not started yet
    assert lifecycle.roll_memberships_forward(day=dt.date(2026, 12, 5)) == [
        (onboarding_member.pk, "onboarding", "active")]
    change = onboarding_member.status_changes.last()
    assert (change.to_status, change.effective_on, change.changed_by) == ("active", dt.date(2026, 12, 5), None)


def test_end_date_lapses_or_terminates_the_day_after(cast):
    a, b = cast.membership_a, cast.membership_b
    Membership.objects.filter(pk=a.pk).update(end_date=dt.date(2026, 12, 31))
    Membership.objects.filter(pk=b.pk).update(end_date=dt.date(2026, 12, 31), ends_by_termination=True)
    assert lifecycle.roll_memberships_forward(day=dt.date(2026, 12, 31)) == []
    changes = sorted(lifecycle.roll_memberships_forward(day=dt.date(2027, 1, 1)))
    assert changes == sorted([(a.pk, "active", "lapsed"), (b.pk, "active", "terminated")])
    assert a.status_changes.last().effective_on == dt.date(2027, 1, 1)


def test_missed_days_are_caught_up_and_each_change_happens_once(cast):
    Membership.objects.filter(pk=cast.membership_a.pk).update(end_date=dt.date(2026, 12, 31))
    assert lifecycle.catch_up(today=dt.date(2026, 12, 30)) == []
    # The worker was down from Dec 31 to Jan 4; on Jan 5 it works through every missed day.
    changes = lifecycle.catch_up(today=dt.date(2027, 1, 5))
    assert changes == [(cast.membership_a.pk, "active", "lapsed")]
    assert lifecycle.catch_up(today=dt.date(2027, 1, 5)) == []  # ran twice the same day
    lapsed = cast.membership_a.status_changes.filter(to_status="lapsed")
    assert lapsed.count() == 1 and lapsed.get().effective_on == dt.date(2027, 1, 1)


def test_pinned_status_is_left_alone_and_says_who_pinned_it(cast):
    m = cast.membership_a
    Membership.objects.filter(pk=m.pk).update(end_date=dt.date(2026, 12, 31))
    directory.membership_pin_status(user=cast["lead_admin_a"], membership=m, status="active",
                                    reason="Renewal agreed, paperwork pending")
    assert lifecycle.roll_memberships_forward(day=dt.date(2027, 1, 10)) == []
    m.refresh_from_db()
    assert (m.status, m.pinned_by, m.pin_reason) == ("active", cast["lead_admin_a"],
                                                     "Renewal agreed, paperwork pending")
    directory.membership_unpin_status(user=cast["lead_admin_a"], membership=m)
    assert lifecycle.roll_memberships_forward(day=dt.date(2027, 1, 10)) == [(m.pk, "active", "lapsed")]


def test_member_without_its_contacts_stays_onboarding(onboarding_member, cast):
    cast.contact_a.roles.all().delete()
    assert lifecycle.roll_memberships_forward(day=dt.date(2026, 12, 2)) == []
    onboarding_member.refresh_from_db()
    assert onboarding_member.status == "onboarding"
