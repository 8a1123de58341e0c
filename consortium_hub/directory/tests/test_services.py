"""Directory services: validation, the contact rules, membership history, and the audit trail."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.directory import selectors, services
from consortium_hub.directory.models import Contact, ContactRole, Membership, Organisation

pytestmark = pytest.mark.django_db


def test_organisation_identifiers_are_validated_and_normalised(cast):
    org = services.organisation_create(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                       legal_name="Gamma College", country="GB", ror_id="https://ror.org/05DXPS055",
                                       grid_id="GRID.1234.5", isni="0000 0001 2146 438X")
    assert (org.ror_id, org.grid_id) == ("05dxps055", "grid.1234.5")
    with pytest.raises(ValidationError) as error:
        services.organisation_create(user=cast["lead_admin_a"], consortium=cast.consortium_a,
                                     legal_name="Bad ROR", country="GB", ror_id="05dxps056")
    assert "ror_id" in error.value.message_dict
    assert not Organisation.objects.filter(legal_name="Bad ROR").exists()


def test_lead_cannot_create_in_another_consortium(cast):
    with pytest.raises(PermissionDenied):
        services.organisation_create(user=cast["lead_admin_a"], consortium=cast.consortium_b, legal_name="X",
                                     country="GB")


def test_second_voting_contact_is_refused_with_the_holders_name(cast):
    with pytest.raises(ValidationError) as error:
        services.contact_create(user=cast["lead_admin_a"], organisation=cast.org_a, name="Vera Vote",
                                email="vera@alpha.example", roles=[ContactRole.Kind.VOTING])
    assert "Ann Alpha" in str(error.value)
    assert not cast.org_a.contacts.filter(email="vera@alpha.example").exists()  # nothing half-written


def test_voting_role_can_be_moved_explicitly(cast):
    vera = services.contact_create(user=cast["lead_admin_a"], organisation=cast.org_a, name="Vera Vote",
                                   email="vera@alpha.example", roles=[ContactRole.Kind.VOTING], take_voting=True)
    voters = ContactRole.objects.filter(organisation=cast.org_a, role=ContactRole.Kind.VOTING)
    assert [r.contact for r in voters] == [vera]


def test_database_itself_refuses_two_voting_contacts(cast):
    other = services.contact_create(user=cast["lead_admin_a"], organisation=cast.org_a, name="Olly",
                                    email="olly@alpha.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactRole.objects.create(contact=other, organisation=cast.org_a, role=ContactRole.Kind.VOTING)


def test_members_breaking_contact_rules_are_listed(cast):
    assert list(selectors.members_breaking_contact_rules(user=cast["orcid_admin"])) == []
    ContactRole.objects.filter(organisation=cast.org_a, role=ContactRole.Kind.VOTING).delete()
    ContactRole.objects.filter(organisation=cast.org_b, role=ContactRole.Kind.MAIN).delete()
    broken = {m.organisation.legal_name: (m.voting_count, m.main_count)
              for m in selectors.members_breaking_contact_rules(user=cast["orcid_admin"])}
    assert broken == {"Alpha University": (0, 1), "Beta University": (1, 0)}
    # A lead sees only its own consortium's gaps.
    assert [m.organisation for m in selectors.members_breaking_contact_rules(user=cast["lead_admin_b"])] == [
        cast.org_b]


def test_membership_dates_follow_month_boundaries(cast):
    with pytest.raises(ValidationError) as error:
        services.membership_create(user=cast["lead_admin_a"], organisation=cast.org_a, start_date=dt.date(2025, 3, 2),
                                   end_date=dt.date(2025, 12, 30), tier="basic", size="small")
    assert set(error.value.message_dict) == {"start_date", "end_date"}


def test_membership_status_changes_keep_a_dated_history(cast):
    m = services.membership_create(user=cast["lead_admin_a"], organisation=cast.org_a,
                                   start_date=dt.date(2026, 1, 1), tier="basic", size="small")
    services.membership_change_status(user=cast["lead_admin_a"], membership=m, to_status=Membership.Status.ONBOARDING,
                                      effective_on=dt.date(2026, 1, 1), reason="Agreement signed")
    services.membership_change_status(user=cast["lead_admin_a"], membership=m, to_status=Membership.Status.ACTIVE,
                                      effective_on=dt.date(2026, 2, 1))
    history = [(c.from_status, c.to_status, c.effective_on) for c in m.status_changes.all()]
    assert history == [("", "applicant", history[0][2]), ("applicant", "onboarding", dt.date(2026, 1, 1)),
                       ("onboarding", "active", dt.date(2026, 2, 1))]
    assert m.status_changes.last().changed_by == cast["lead_admin_a"]


def test_voting_contacts_export_has_one_row_per_active_member(cast):
    rows = selectors.voting_contacts(user=cast["orcid_admin"])
    assert [(r["organisation"], r["voting_contact_email"]) for r in rows] == [
        ("Alpha Institute", "ian@inst.example"), ("Alpha University", "ann@alpha.example"),
        ("Beta University", "bea@beta.example")]
    assert [r["organisation"] for r in selectors.voting_contacts(user=cast["lead_admin_b"])] == ["Beta University"]


def test_every_write_is_in_the_change_log_with_before_and_after(cast):
    services.organisation_update(user=cast["lead_admin_a"], organisation=cast.org_a, city="Leeds")
    record = ChangeRecord.objects.filter(object_id=str(cast.org_a.pk), content_type__model="organisation").first()
    assert record.action == "update"
    assert (record.before["city"], record.after["city"]) == ("London", "Leeds")
    assert record.consortium_id == cast.consortium_a.pk


def test_search_finds_by_name_email_identifier_and_orcid_id_within_scope(cast):
    cast.contact_a.orcid_id = "0000-0002-1825-0097"
    cast.contact_a.save()
    user = cast["lead_admin_a"]
    assert selectors.search(user=user, query="alpha univ")["organisations"] == [cast.org_a]
    assert selectors.search(user=user, query="ann@alpha")["contacts"] == [cast.contact_a]
    assert selectors.search(user=user, query=cast.org_a.ror_id)["organisations"] == [cast.org_a]
    assert selectors.search(user=user, query="0000-0002-1825-0097")["contacts"] == [cast.contact_a]
    assert selectors.search(user=user, query="Beta") == {"organisations": [], "contacts": []}


def test_active_member_cannot_lose_its_only_voting_or_main_contact(cast):
    with pytest.raises(ValidationError) as error:
        services.contact_update(user=cast["lead_admin_a"], contact=cast.contact_a, roles=[ContactRole.Kind.MAIN])
    assert "exactly one voting contact" in str(error.value)
    with pytest.raises(ValidationError):
        services.contact_delete(user=cast["lead_admin_a"], contact=Contact.objects.get(pk=cast.contact_a.pk))
    assert set(Contact.objects.get(pk=cast.contact_a.pk).roles.values_list("role", flat=True)) == {"main", "voting"}


def test_member_cannot_become_active_without_its_contacts(cast):
    org = services.organisation_create(user=cast["lead_admin_a"], consortium=cast.consortium_a, legal_name="New U",
                                       country="GB")
    m = services.membership_create(user=cast["lead_admin_a"], organisation=org, start_date=dt.date(2026, 1, 1),
                                   tier="basic", size="small", status=Membership.Status.ONBOARDING)
    with pytest.raises(ValidationError) as error:
        services.membership_change_status(user=cast["lead_admin_a"], membership=m, to_status="active")
    assert "voting contact" in str(error.value) and "main relationship" in str(error.value)
    services.contact_create(user=cast["lead_admin_a"], organisation=org, name="Nia", email="nia@new.example",
                            roles=[ContactRole.Kind.MAIN, ContactRole.Kind.VOTING])
    assert services.membership_change_status(user=cast["lead_admin_a"], membership=m,
                                             to_status="active").status == "active"
