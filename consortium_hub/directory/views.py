from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consortium_hub.core.access import access_scope, get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, CHANGE, DELETE, VIEW
from consortium_hub.core.viewkit import HistoryPage, ListPage, form_page, paginate
from consortium_hub.directory import feed, selectors, services, tabular
from consortium_hub.directory.filters import ConsortiumFilter, ContactFilter, MembershipFilter, OrganisationFilter
from consortium_hub.directory.forms import (
    ConsortiumForm,
    ContactForm,
    MembershipForm,
    OrganisationForm,
    PinStatusForm,
)
from consortium_hub.directory.models import Consortium, Contact, Membership, Organisation
from consortium_hub.onboarding.selectors.plans import plans_for_organisation, plans_in_progress


# --- Consortia ------------------------------------------------------------------------------------

class ConsortiumList(ListPage):
    selector = staticmethod(selectors.consortium_list)
    filterset_class = ConsortiumFilter
    template_name = "directory/consortium_list.html"
    partial_template_name = "directory/_consortium_table.html"


@login_required
def consortium_detail(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = get_for_user_or_404(request.user, Consortium.objects.select_related(
        "lead_organisation", "engagement_lead"), pk=pk)
    memberships = (selectors.membership_list(user=request.user).filter(consortium=consortium)
                   .order_by("organisation__legal_name"))
    page = paginate(request, memberships)
    scope = access_scope(request.user)
    return render(request, "directory/consortium_detail.html", {
        "consortium": consortium, "page": page, "objects": page.object_list,
        "onboarding_plans": (plans_in_progress(user=request.user).filter(consortium=consortium)
                             if scope.allows_anything("onboarding", VIEW) else None),
        "can_change": access_scope(request.user).can(CHANGE, consortium),
        "can_add": access_scope(request.user).can_in(ADD, "directory", consortium_id=consortium.pk),
    })


@login_required
def consortium_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "consortia", ADD)
    form = ConsortiumForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.consortium_create(user=request.user, **data),
                     success_url=lambda obj: obj.get_absolute_url(),
                     success_message=_("Consortium created."), context={"title": _("New consortium")})


@login_required
def consortium_edit(request: HttpRequest, pk: int) -> HttpResponse:
    consortium = get_for_user_or_404(request.user, Consortium, CHANGE, pk=pk)
    form = ConsortiumForm(request.POST or None, instance=Consortium.objects.get(pk=pk), user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.consortium_update(user=request.user, consortium=consortium, **data),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Consortium saved."),
                     context={"title": _("Edit %(name)s") % {"name": consortium}, "object": consortium})


class ConsortiumHistory(HistoryPage):
    model = Consortium


# --- Organisations --------------------------------------------------------------------------------

class OrganisationList(ListPage):
    selector = staticmethod(selectors.organisation_list)
    filterset_class = OrganisationFilter
    template_name = "directory/organisation_list.html"
    partial_template_name = "directory/_organisation_table.html"

    def extra_context(self) -> dict:
        return {"can_add": access_scope(self.request.user).allows_anything("directory", ADD)}


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_for_user_or_404(request.user, Organisation.objects.select_related("consortium"), pk=pk)
    scope = access_scope(request.user)
    contacts = selectors.contact_list(user=request.user).filter(organisation=organisation)
    memberships = (Membership.objects.visible_to(request.user).filter(organisation=organisation)
                   .select_related("pinned_by").prefetch_related("status_changes__changed_by")
                   .order_by("-start_date"))
    return render(request, "directory/organisation_detail.html", {
        "organisation": organisation, "contacts": contacts, "memberships": memberships,
        "can_change": scope.can(CHANGE, organisation),
        "can_delete": scope.can(DELETE, organisation),
        "can_add_contact": scope.can_in(ADD, "contacts", consortium_id=organisation.consortium_id,
                                        organisation_id=organisation.pk),
        "can_add_membership": scope.can_in(ADD, "directory", consortium_id=organisation.consortium_id),
        "onboarding_plans": (plans_for_organisation(user=request.user, organisation=organisation)
                             if scope.allows_anything("onboarding", VIEW) else None),
    })


@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "directory", ADD)
    initial = {"consortium": request.GET.get("consortium")}
    form = OrganisationForm(request.POST or None, initial=initial, user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.organisation_create(user=request.user, **data),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Organisation added."),
                     context={"title": _("New organisation")})


@login_required
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_for_user_or_404(request.user, Organisation, CHANGE, pk=pk)
    form = OrganisationForm(request.POST or None, instance=Organisation.objects.get(pk=pk), user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.organisation_update(user=request.user, organisation=organisation,
                                                                    **data),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Organisation saved."),
                     context={"title": _("Edit %(name)s") % {"name": organisation}, "object": organisation})


@login_required
def organisation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_for_user_or_404(request.user, Organisation, DELETE, pk=pk)
    if request.method == "POST":
        try:
            services.organisation_delete(user=request.user, organisation=organisation)
        except ValidationError as exc:
            return render(request, "directory/confirm_delete.html", {"object": organisation, "errors": exc.messages})
        return redirect("directory:organisation_list")
    return render(request, "directory/confirm_delete.html", {"object": organisation})


class OrganisationHistory(HistoryPage):
    model = Organisation


# --- Memberships ----------------------------------------------------------------------------------

class MembershipList(ListPage):
    selector = staticmethod(selectors.membership_list)
    filterset_class = MembershipFilter
    template_name = "directory/membership_list.html"
    partial_template_name = "directory/_membership_table.html"


@login_required
def membership_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "directory", ADD)
    form = MembershipForm(request.POST or None, initial={"organisation": request.GET.get("organisation")},
                          user=request.user)

    def save(data: dict) -> Membership:
        data.pop("reason", None)
        return services.membership_create(user=request.user, **data)

    return form_page(request, form=form, template="core/form.html", save=save,
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Membership recorded."),
                     context={"title": _("New membership")})


@login_required
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_user_or_404(request.user, Membership, CHANGE, pk=pk)
    form = MembershipForm(request.POST or None, instance=Membership.objects.get(pk=pk), user=request.user)

    def save(data: dict) -> Membership:
        data.pop("organisation", None)
        return services.membership_update(user=request.user, membership=membership, **data)

    return form_page(request, form=form, template="core/form.html", save=save,
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Membership saved."),
                     context={"title": _("Edit membership of %(org)s") % {"org": membership.organisation},
                              "object": membership})


@login_required
def membership_pin(request: HttpRequest, pk: int) -> HttpResponse:
    """Pin a status by hand; the daily roll-forward then leaves it alone."""
    membership = get_for_user_or_404(request.user, Membership.objects.select_related("organisation"), CHANGE, pk=pk)
    form = PinStatusForm(request.POST or None, initial={"status": membership.status})
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.membership_pin_status(
                         user=request.user, membership=membership, status=data["status"],
                         reason=data["pin_reason"]),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Status pinned."),
                     context={"title": _("Pin the status of %(org)s") % {"org": membership.organisation},
                              "object": membership})


@login_required
@require_POST
def membership_unpin(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_user_or_404(request.user, Membership, CHANGE, pk=pk)
    services.membership_unpin_status(user=request.user, membership=membership)
    messages.success(request, _("Status unpinned: the daily roll-forward applies again."))
    return redirect(membership.get_absolute_url())


class MembershipHistory(HistoryPage):
    model = Membership


# --- Contacts -------------------------------------------------------------------------------------

class ContactList(ListPage):
    area = "contacts"
    selector = staticmethod(selectors.contact_list)
    filterset_class = ContactFilter
    template_name = "directory/contact_list.html"
    partial_template_name = "directory/_contact_table.html"

    def extra_context(self) -> dict:
        return {"can_add": access_scope(self.request.user).allows_anything("contacts", ADD)}


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(request.user, Contact.objects.select_related("organisation").prefetch_related(
        "roles"), pk=pk)
    scope = access_scope(request.user)
    return render(request, "directory/contact_detail.html", {
        "contact": contact, "can_change": scope.can(CHANGE, contact), "can_delete": scope.can(DELETE, contact)})


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "contacts", ADD)
    form = ContactForm(request.POST or None, initial={"organisation": request.GET.get("organisation")},
                       user=request.user)
    return form_page(request, form=form, template="core/form.html",
                     save=lambda data: services.contact_create(user=request.user, **data),
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Contact added."),
                     context={"title": _("New contact")})


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(request.user, Contact, CHANGE, pk=pk)
    form = ContactForm(request.POST or None, instance=Contact.objects.get(pk=pk), user=request.user)

    def save(data: dict) -> Contact:
        data.pop("organisation", None)
        return services.contact_update(user=request.user, contact=contact, **data)

    return form_page(request, form=form, template="core/form.html", save=save,
                     success_url=lambda obj: obj.get_absolute_url(), success_message=_("Contact saved."),
                     context={"title": _("Edit %(name)s") % {"name": contact}, "object": contact})


@login_required
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_user_or_404(request.user, Contact, DELETE, pk=pk)
    if request.method == "POST":
        organisation = contact.organisation
        try:
            services.contact_delete(user=request.user, contact=contact)
        except ValidationError as exc:
            # The delete was rolled back; the in-memory instance lost its pk, the row did not.
            return render(request, "directory/confirm_delete.html",
                          {"object": Contact.objects.get(pk=pk), "errors": exc.messages})
        return redirect(organisation.get_absolute_url())
    return render(request, "directory/confirm_delete.html", {"object": contact})


class ContactHistory(HistoryPage):
    model = Contact


# --- Rules, feed, exports, search -----------------------------------------------------------------

@login_required
def contact_rule_breaches(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "contacts", VIEW)
    page = paginate(request, selectors.members_breaking_contact_rules(user=request.user))
    return render(request, "directory/rule_breaches.html", {"page": page, "objects": page.object_list})


@login_required
def voting_contacts_csv(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "contacts", VIEW)
    consortium = None
    if request.GET.get("consortium"):
        consortium = get_for_user_or_404(request.user, Consortium, pk=request.GET["consortium"])
    rows = selectors.voting_contacts(user=request.user, consortium=consortium)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="voting-contacts-{stamp}.csv"'
    writer = csv.DictWriter(response, fieldnames=list(selectors.VOTING_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return response


@login_required
def change_feed(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "feed", VIEW)
    consortium = None
    if request.GET.get("consortium"):
        consortium = get_for_user_or_404(request.user, Consortium, pk=request.GET["consortium"])
    show_all = request.GET.get("show") == "all"
    records = selectors.change_feed(user=request.user, consortium=consortium, include_acknowledged=show_all)
    page = paginate(request, records)
    return render(request, "directory/change_feed.html", {
        "page": page, "objects": page.object_list, "consortium": consortium, "show_all": show_all,
        "summary": feed.unacknowledged_by_consortium(user=request.user),
    })


@login_required
@require_POST
def change_feed_acknowledge(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "feed", CHANGE)
    ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("change") if i.isdigit()]
    consortium = None
    if request.POST.get("consortium"):
        consortium = get_for_user_or_404(request.user, Consortium, pk=request.POST["consortium"])
    count = feed.acknowledge(user=request.user, change_ids=ids, consortium=consortium)
    messages.success(request, _("%(n)d change(s) acknowledged.") % {"n": count})
    return redirect(request.POST.get("next") or "directory:change_feed")


@login_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    results = selectors.search(user=request.user, query=query)
    return render(request, "directory/search.html", {"query": query, **results})


EXPORTS = {
    "organisations": (OrganisationFilter, selectors.organisation_list, "directory"),
    "contacts": (ContactFilter, selectors.contact_list, "contacts"),
}


@login_required
def export(request: HttpRequest, kind: str) -> HttpResponse:
    """The list's current filter as CSV or XLSX, in the columns import reads."""
    if kind not in EXPORTS:
        raise Http404
    filterset_class, selector, area = EXPORTS[kind]
    require_area(request.user, area, VIEW)
    objects = filterset_class(request.GET or None, queryset=selector(user=request.user), request=request).qs
    data = tabular.dataset(kind, objects.iterator(chunk_size=2000) if kind == "organisations" else objects)
    stamp = timezone.localdate().isoformat()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(data.export("xlsx"),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.xlsx"'
    else:
        response = HttpResponse(data.export("csv"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.csv"'
    return response
