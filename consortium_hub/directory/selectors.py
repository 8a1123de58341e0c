"""Reads of the directory. Every selector starts from `visible_to(user)`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation

VOTING_COLUMNS = ("consortium", "organisation", "ror_id", "country", "tier", "voting_contact_name",
                  "voting_contact_email", "voting_contact_orcid_id")
FEED_MODELS = ("organisation", "membership", "contact", "contactrole", "membershipstatuschange")


def _count_of(model: Any, field: str) -> Subquery:
    """A per-row count as a correlated subquery: computed for the rows fetched (one page), not
    by grouping the whole table the way a joined Count() would, and the list keeps its ordering."""
    return Subquery(model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
                    .annotate(n=Func(F("pk"), function="COUNT")).values("n"), output_field=IntegerField())


def consortium_list(*, user: Any) -> QuerySet[Consortium]:
    return (Consortium.objects.visible_to(user)
            .select_related("lead_organisation", "engagement_lead")
            .annotate(organisation_count=Coalesce(_count_of(Organisation, "consortium"), 0))
            .order_by("name"))


def organisation_list(*, user: Any) -> QuerySet[Organisation]:
    current = Membership.objects.order_by("-start_date")
    return (Organisation.objects.visible_to(user)
            .select_related("consortium")
            .prefetch_related(Prefetch("memberships", queryset=current))
            .annotate(contact_count=Coalesce(_count_of(Contact, "organisation"), 0))
            .order_by("legal_name", "pk"))


def contact_list(*, user: Any) -> QuerySet[Contact]:
    return (Contact.objects.visible_to(user)
            .select_related("organisation", "organisation__consortium")
            .prefetch_related("roles"))


def membership_list(*, user: Any) -> QuerySet[Membership]:
    return Membership.objects.visible_to(user).select_related("organisation", "consortium")


def members_breaking_contact_rules(*, user: Any) -> QuerySet[Membership]:
    """Active members without exactly one voting contact or without a main relationship contact."""
    return (
        Membership.objects.visible_to(user)
        .filter(status=Membership.Status.ACTIVE)
        .select_related("organisation", "consortium")
        .annotate(
            voting_count=Count("organisation__contact_roles",
                               filter=Q(organisation__contact_roles__role=ContactRole.Kind.VOTING), distinct=True),
            main_count=Count("organisation__contact_roles",
                             filter=Q(organisation__contact_roles__role=ContactRole.Kind.MAIN), distinct=True),
        )
        .filter(Q(voting_count=0) | Q(voting_count__gt=1) | Q(main_count=0))
        .order_by("consortium__name", "organisation__legal_name")
    )


def voting_contacts(*, user: Any, consortium: Consortium | None = None) -> list[dict[str, Any]]:
    """One row per active member for the ORCID Board election, with its voting contact (or a gap)."""
    memberships = (Membership.objects.visible_to(user).filter(status=Membership.Status.ACTIVE)
                   .select_related("organisation", "consortium").order_by("consortium__name",
                                                                          "organisation__legal_name"))
    if consortium is not None:
        memberships = memberships.filter(consortium=consortium)
    memberships = list(memberships)
    voters = {
        r.organisation_id: r.contact
        for r in ContactRole.objects.visible_to(user)
        .filter(role=ContactRole.Kind.VOTING, organisation_id__in=[m.organisation_id for m in memberships])
        .select_related("contact")
    }
    rows = []
    for m in memberships:
        contact = voters.get(m.organisation_id)
        rows.append({
            "consortium": m.consortium.name,
            "organisation": m.organisation.legal_name,
            "ror_id": m.organisation.ror_id,
            "country": str(m.organisation.country),
            "tier": m.get_tier_display(),
            "voting_contact_name": contact.name if contact else "",
            "voting_contact_email": contact.email if contact else "",
            "voting_contact_orcid_id": contact.orcid_id if contact else "",
        })
    return rows


def change_feed(*, user: Any, consortium: Consortium | None = None, include_acknowledged: bool = False
                ) -> QuerySet[ChangeRecord]:
    records = (ChangeRecord.objects.visible_to(user, area="feed")
               .filter(content_type__app_label="directory", content_type__model__in=FEED_MODELS)
               .select_related("user", "content_type", "acknowledgement", "acknowledgement__by"))
    if consortium is not None:
        records = records.filter(consortium_id=consortium.pk)
    if not include_acknowledged:
        records = records.filter(acknowledgement__isnull=True)
    return records


def search(*, user: Any, query: str, limit: int = 25) -> dict[str, list]:
    from consortium_hub.directory.filters import ContactFilter, OrganisationFilter

    query = query.strip()
    if not query:
        return {"organisations": [], "contacts": []}
    organisations = OrganisationFilter({"q": query}, queryset=Organisation.objects.visible_to(user)
                                       .select_related("consortium")).qs[:limit]
    contacts = ContactFilter({"q": query}, queryset=Contact.objects.visible_to(user)
                             .select_related("organisation")).qs[:limit]
    return {"organisations": list(organisations), "contacts": list(contacts)}
