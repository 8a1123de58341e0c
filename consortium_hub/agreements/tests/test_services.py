"""Agreement and renewal-decision services: validation, access, and what each decision does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from consortium_hub.agreements import terms
from consortium_hub.agreements.models import Agreement, RenewalDecision
from consortium_hub.agreements.services import agreements as services
from consortium_hub.agreements.services.renewals import renewal_decide, roll_agreements_forward
from consortium_hub.agreements.tests.conftest import END, PDF, PNG, lead_agreement, member_agreement, new_member
from consortium_hub.audit.context import acting_as
from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core.viewkit import history_for
from consortium_hub.directory.models import Membership, MembershipStatusChange
from consortium_hub.onboarding.lifecycle import roll_memberships_forward

pytestmark = pytest.mark.django_db

RENEW, CHANGE_TIER, TERMINATE = (RenewalDecision.Decision.RENEW, RenewalDecision.Decision.CHANGE_TIER,
                                 RenewalDecision.Decision.TERMINATE)


def _messages(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- Terms -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("end", "months", "aligned", "expected"), [
    (dt.date(2026, 12, 31), 12, True, (dt.date(2027, 1, 1), dt.date(2027, 12, 31))),
    (dt.date(2026, 1, 31), 1, True, (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
    (dt.date(2027, 12, 31), 2, True, (dt.date(2028, 1, 1), dt.date(2028, 2, 29))),
    (dt.date(2026, 6, 30), 24, True, (dt.date(2026, 7, 1), dt.date(2028, 6, 30))),
    (dt.date(2026, 3, 14), 12, False, (dt.date(2026, 3, 15), dt.date(2027, 3, 14))),
])
def test_next_term(end, months, aligned, expected):
    assert terms.next_term(end_date=end, term_months=months, month_aligned=aligned) == expected


# --- Recording agreements ---------------------------------------------------------------------------

def test_a_lead_admin_records_a_member_agreement_of_their_consortium(cast):
    with acting_as(cast["lead_admin_a"], via="web"):
        agreement = member_agreement(cast, user="lead_admin_a", signed_on=dt.date(2025, 12, 1), notice_days=60)
    assert agreement.consortium == cast.consortium_a and agreement.organisation == cast.org_a
    assert agreement.membership == cast.membership_a
    assert agreement.tier == cast.membership_a.tier  # the membership's tier unless given
    assert agreement.status == Agreement.Status.ACTIVE
    created = ChangeRecord.objects.get(object_id=str(agreement.pk), content_type__model="agreement")
    assert created.action == "create" and created.user == cast["lead_admin_a"]  # audited by the receiver


def test_member_agreements_follow_the_month_rule_with_clear_messages(cast):
    with pytest.raises(ValidationError) as exc:
        member_agreement(cast, start=dt.date(2026, 1, 15), end=dt.date(2026, 12, 30))
    errors = _messages(exc)
    assert "starts on the 1st of a month" in errors["start_date"][0]
    assert "2026-01-01" in errors["start_date"][0]  # suggests the month's 1st
    assert "ends on the last day of a month" in errors["end_date"][0]
    assert "2026-12-31" in errors["end_date"][0]
    assert not Agreement.objects.exists()


def test_lead_agreements_need_not_follow_the_month_rule(cast):
    assert lead_agreement(cast).start_date == dt.date(2025, 3, 15)


def test_end_must_be_after_start_and_term_at_least_a_month(cast):
    with pytest.raises(ValidationError) as exc:
        member_agreement(cast, start=dt.date(2026, 12, 1), end=dt.date(2026, 11, 30), term_months=0)
    assert _messages(exc)["end_date"] == ["The end date must be after the start date."]
    assert _messages(exc)["term_months"] == ["The term is at least one month."]


def test_overlapping_agreements_of_one_member_are_refused(cast, agreement_a):
    with pytest.raises(ValidationError) as exc:
        member_agreement(cast, start=dt.date(2026, 6, 1), end=dt.date(2027, 5, 31))
    assert "already has an agreement from 2026-01-01 to 2026-12-31" in _messages(exc)["start_date"][0]
    # A draft being negotiated may overlap.
    assert member_agreement(cast, start=dt.date(2026, 6, 1), end=dt.date(2027, 5, 31), status="draft")


def test_the_lead_agreement_is_recorded_and_changed_by_orcid_admins_only(cast):
    with pytest.raises(PermissionDenied):
        services.agreement_create(user=cast["lead_admin_a"], kind=Agreement.Kind.LEAD, consortium=cast.consortium_a,
                                  start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
    agreement = lead_agreement(cast)
    with pytest.raises(PermissionDenied):
        services.agreement_update(user=cast["lead_admin_a"], agreement=agreement, notice_days=30)
    assert services.agreement_update(user=cast["orcid_admin"], agreement=agreement, notice_days=30).notice_days == 30
    assert agreement.organisation is None and agreement.tier == ""


def test_no_writes_across_consortia_or_without_the_grant(cast, agreement_a):
    with pytest.raises(PermissionDenied):
        member_agreement(cast, new_member(cast.consortium_a, "Gamma College"), user="lead_admin_b")
    with pytest.raises(PermissionDenied):
        services.agreement_update(user=cast["lead_admin_b"], agreement=agreement_a, notice_days=30)
    for who in ("engagement_lead", "lead_support_a", "member_contact_a", "orcid_support"):
        with pytest.raises(PermissionDenied):
            services.agreement_update(user=cast[who], agreement=agreement_a, notice_days=30)


def test_who_an_agreement_is_between_cannot_change(cast, agreement_a):
    other = new_member(cast.consortium_a, "Gamma College")
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(user=cast["lead_admin_a"], agreement=agreement_a, membership=other)
    assert "cannot change" in _messages(exc)["membership"][0]


# --- The signed PDF ----------------------------------------------------------------------------------

def test_a_signed_pdf_is_stored_under_a_random_name(cast):
    agreement = member_agreement(cast, document=SimpleUploadedFile("Signed Alpha.pdf", PDF))
    assert agreement.document.name.startswith(f"agreements/{dt.date.today().year}/")
    assert "Alpha" not in agreement.document.name and agreement.document.name.endswith(".pdf")
    assert agreement.document.read() == PDF


@pytest.mark.parametrize(("content", "name", "message"), [
    (PNG, "scan.pdf", "is not a PDF document"),
    (b"", "empty.pdf", "is empty"),
    (PDF + b"x" * (10 * 1024 * 1024), "huge.pdf", "a signed agreement may be at most 10.0\xa0MB"),
])
def test_documents_that_are_not_a_pdf_of_at_most_10_mb_are_refused(cast, agreement_a, content, name, message):
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(user=cast["lead_admin_a"], agreement=agreement_a,
                                  document=SimpleUploadedFile(name, content))
    assert message in _messages(exc)["document"][0]
    assert name in _messages(exc)["document"][0]
    agreement_a.refresh_from_db()
    assert not agreement_a.document


def test_a_pdf_of_exactly_10_mb_is_accepted(cast, agreement_a):
    content = PDF + b"0" * (10 * 1024 * 1024 - len(PDF))
    updated = services.agreement_update(user=cast["lead_admin_a"], agreement=agreement_a,
                                        document=SimpleUploadedFile("ok.pdf", content))
    assert updated.document.size == 10 * 1024 * 1024


# --- Renewal decisions ----------------------------------------------------------------------------------

def test_renew_records_the_next_term_linked_to_the_decision(cast, agreement_a):
    decision = renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=RENEW, note="Happy member")
    following = decision.next_agreement
    assert (following.start_date, following.end_date) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert following.membership == cast.membership_a and following.tier == agreement_a.tier
    assert following.status == Agreement.Status.ACTIVE and following.renewed_from == decision
    assert (following.term_months, following.notice_days, following.auto_renew) == (12, 90, True)
    assert decision.decided_by == cast["lead_admin_a"] and decision.effective_on == dt.date(2027, 1, 1)
    assert decision.note == "Happy member"
    # The decision shows on the agreement's History tab (audit_parent).
    assert history_for(agreement_a).filter(content_type__model="renewaldecision").exists()
    # After its end the renewed agreement expires; the next one carries on.
    assert roll_agreements_forward(day=dt.date(2026, 12, 31)) == []
    assert roll_agreements_forward(day=dt.date(2027, 1, 1)) == [(agreement_a.pk, Agreement.Status.EXPIRED)]
    following.refresh_from_db()
    assert following.status == Agreement.Status.ACTIVE


def test_the_lead_agreement_renews_for_its_term_without_the_month_rule(cast):
    agreement = lead_agreement(cast)
    following = renewal_decide(user=cast["orcid_admin"], agreement=agreement, decision=RENEW).next_agreement
    assert (following.start_date, following.end_date) == (dt.date(2026, 3, 15), dt.date(2027, 3, 14))
    assert following.kind == Agreement.Kind.LEAD and following.organisation is None
    with pytest.raises(PermissionDenied):
        renewal_decide(user=cast["lead_admin_a"], agreement=following, decision=RENEW)


def test_change_tier_renews_on_the_new_tier_and_keeps_the_membership_history(cast, agreement_a):
    assert cast.membership_a.tier == Membership.Tier.BASIC
    with acting_as(cast["lead_admin_a"], via="web"):
        decision = renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=CHANGE_TIER,
                                  new_tier=Membership.Tier.PREMIUM)
    agreement_a.refresh_from_db()
    cast.membership_a.refresh_from_db()
    assert agreement_a.tier == Membership.Tier.BASIC  # the old term keeps the old tier
    assert decision.next_agreement.tier == Membership.Tier.PREMIUM and decision.new_tier == Membership.Tier.PREMIUM
    assert cast.membership_a.tier == Membership.Tier.PREMIUM
    change = (ChangeRecord.objects.filter(content_type__model="membership", object_id=str(cast.membership_a.pk),
                                          action="update").first())
    assert change.before["tier"] == "basic" and change.after["tier"] == "premium"
    assert change.user == cast["lead_admin_a"]
    assert MembershipStatusChange.objects.filter(membership=cast.membership_a).count() == 0  # status unchanged


def test_change_tier_needs_another_tier_and_a_tier_goes_only_with_change_tier(cast, agreement_a):
    with pytest.raises(ValidationError) as exc:
        renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=CHANGE_TIER)
    assert _messages(exc)["new_tier"] == ["Choose the tier for the next term."]
    with pytest.raises(ValidationError) as exc:
        renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=CHANGE_TIER, new_tier="basic")
    assert "already on the Basic tier" in _messages(exc)["new_tier"][0]
    with pytest.raises(ValidationError) as exc:
        renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=RENEW, new_tier="premium")
    assert "only given when renewing with a tier change" in _messages(exc)["new_tier"][0]
    assert not RenewalDecision.objects.exists() and Agreement.objects.count() == 1


def test_terminate_ends_the_membership_at_the_agreement_end_by_termination(cast, agreement_a):
    with acting_as(cast["lead_admin_a"], via="web"):
        decision = renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=TERMINATE,
                                  note="Budget cut")
    assert decision.next_agreement is None and decision.effective_on == END
    assert Agreement.objects.count() == 1
    membership = Membership.objects.get(pk=cast.membership_a.pk)
    assert membership.end_date == END and membership.ends_by_termination
    assert membership.status == Membership.Status.ACTIVE  # until the end
    # The daily roll-forwards: the membership becomes terminated (not lapsed), the agreement too.
    roll_memberships_forward(day=dt.date(2027, 1, 1))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.TERMINATED
    last = MembershipStatusChange.objects.filter(membership=membership).last()
    assert (last.to_status, last.effective_on) == (Membership.Status.TERMINATED, dt.date(2027, 1, 1))
    assert roll_agreements_forward(day=dt.date(2027, 1, 1)) == [(agreement_a.pk, Agreement.Status.TERMINATED)]
    updates = ChangeRecord.objects.filter(content_type__model="membership", object_id=str(membership.pk),
                                          action="update")
    ended = [c for c in updates if c.before.get("end_date") != c.after.get("end_date")]
    assert len(ended) == 1 and ended[0].user == cast["lead_admin_a"] and ended[0].after["end_date"] == "2026-12-31"


def test_one_decision_per_term(cast, agreement_a):
    renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=RENEW)
    with pytest.raises(ValidationError) as exc:
        renewal_decide(user=cast["orcid_admin"], agreement=agreement_a, decision=TERMINATE)
    assert "already recorded: renew, by Lead Admin A" in exc.value.messages[0]
    assert "Only one decision is recorded per term" in exc.value.messages[0]
    assert RenewalDecision.objects.count() == 1 and Agreement.objects.count() == 2
    assert not Membership.objects.get(pk=cast.membership_a.pk).ends_by_termination


def test_only_active_agreements_are_decided(cast):
    draft = member_agreement(cast, status=Agreement.Status.DRAFT)
    with pytest.raises(ValidationError, match="this one is draft"):
        renewal_decide(user=cast["lead_admin_a"], agreement=draft, decision=RENEW)


def test_a_renewal_that_would_overlap_an_existing_agreement_says_so(cast, agreement_a):
    member_agreement(cast, start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31))  # recorded by hand already
    with pytest.raises(ValidationError, match="The next term \\(2027-01-01 to 2027-12-31\\) cannot be recorded"):
        renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=RENEW)
    assert not RenewalDecision.objects.exists()


def test_decisions_need_write_access_to_the_agreement(cast, agreement_a):
    for who in ("lead_admin_b", "engagement_lead", "member_contact_a", "lead_support_a"):
        with pytest.raises(PermissionDenied):
            renewal_decide(user=cast[who], agreement=agreement_a, decision=RENEW)
    assert not RenewalDecision.objects.exists()


def test_undecided_agreements_stay_active_after_their_end(cast, agreement_a):
    assert roll_agreements_forward(day=dt.date(2027, 2, 1)) == []
    agreement_a.refresh_from_db()
    assert agreement_a.status == Agreement.Status.ACTIVE


def test_the_status_job_is_thin_and_catches_up(cast, agreement_a):
    from consortium_hub.agreements.services.renewals import catch_up_agreement_statuses
    from consortium_hub.agreements.tasks import roll_agreement_statuses

    renewal_decide(user=cast["lead_admin_a"], agreement=agreement_a, decision=TERMINATE)
    assert catch_up_agreement_statuses(today=dt.date(2027, 1, 3)) == [(agreement_a.pk, "terminated")]
    assert catch_up_agreement_statuses(today=dt.date(2027, 1, 3)) == []
    roll_agreement_statuses.call_local()
