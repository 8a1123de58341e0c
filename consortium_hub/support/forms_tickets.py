"""Forms of the ticket pages: raising a ticket, replying, internal notes, the desk's controls, merging."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consortium_hub.core.access import access_scope
from consortium_hub.core.roles import ADD, CHANGE
from consortium_hub.directory.models import Organisation
from consortium_hub.support.models import Ticket
from consortium_hub.support.services import tickets as services

ACCEPT = ",".join(f".{ext}" for ext in services.ATTACHMENT_TYPES)
ATTACHMENT_HELP = _("Optional. Up to %(n)d files of at most 10 MB each: %(types)s.") % {
    "n": services.MAX_ATTACHMENTS, "types": services.ACCEPTED_LABEL}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; each is checked (type by content, size) with a message naming it."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        kwargs.setdefault("help_text", ATTACHMENT_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ACCEPT)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        files = [super(AttachmentsField, self).clean(f, initial) for f in files]
        problems = services.attachment_problems(files)
        if problems:
            raise ValidationError(problems)
        return files


class TicketForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Organisation"))
    subject = forms.CharField(label=_("Subject"), max_length=255)
    category = forms.ChoiceField(label=_("Category"), choices=Ticket.Category.choices,
                                 initial=Ticket.Category.TECHNICAL)
    priority = forms.ChoiceField(label=_("Priority"), choices=Ticket.Priority.choices,
                                 initial=Ticket.Priority.NORMAL)
    body = forms.CharField(label=_("Describe the problem or question"), widget=forms.Textarea(attrs={"rows": 8}))
    requester_email = forms.EmailField(
        label=_("Requester's email"), required=False,
        help_text=_("Raising it for a member? Their address; replies are emailed there. Empty: yours."))
    cc = forms.CharField(label=_("Copy to (CC)"), required=False,
                         help_text=_("Email addresses to keep informed, separated by commas."))
    attachments = AttachmentsField()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisations = (Organisation.objects.visible_to(user, ADD, area="support")
                         .select_related("consortium").order_by("legal_name"))
        self.fields["organisation"].queryset = organisations
        if not self.is_bound and not self.initial.get("organisation"):
            only_one = list(organisations.values_list("pk", flat=True)[:2])
            if len(only_one) == 1:
                self.initial["organisation"] = only_one[0]
        if not access_scope(user).allows_anything("support", CHANGE):
            del self.fields["requester_email"]

    def clean_cc(self) -> list[str]:
        try:
            return services.clean_emails(self.cleaned_data.get("cc", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["cc"]) from exc


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 8}))
    status = forms.ChoiceField(label=_("Then set the status to"), required=False)
    attachments = AttachmentsField()

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reply_%s")  # unique ids: the note form has a body too
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["status"].choices = [("", _("(leave as it is)")), *[
                c for c in Ticket.Status.choices if c[0] != Ticket.Status.WITH_ORCID]]
        else:
            del self.fields["status"]


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Seen by the consortium's support staff only; never emailed to the member."))
    share_with_orcid = forms.BooleanField(label=_("Share with ORCID"), required=False,
                                          help_text=_("ORCID support sees it once the ticket is escalated."))
    attachments = AttachmentsField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)


class ManageForm(forms.Form):
    """The desk's controls: status, assignee, priority, category, organisation (triage), CCs."""

    status = forms.ChoiceField(label=_("Status"))
    assignee = forms.ModelChoiceField(queryset=None, label=_("Assigned to"), required=False,
                                      empty_label=_("(nobody)"))
    priority = forms.ChoiceField(label=_("Priority"), choices=Ticket.Priority.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Ticket.Category.choices)
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Organisation"),
                                          required=False)
    cc = forms.CharField(label=_("Copy to (CC)"), required=False,
                         help_text=_("Email addresses, separated by commas."))

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {
            "status": ticket.status, "assignee": ticket.assignee_id, "priority": ticket.priority,
            "category": ticket.category, "organisation": ticket.organisation_id,
            "cc": ", ".join(cc.email for cc in ticket.ccs.all())})
        kwargs.setdefault("auto_id", "manage_%s")
        super().__init__(*args, **kwargs)
        statuses = list(Ticket.Status.choices)
        if ticket.status != Ticket.Status.WITH_ORCID:
            statuses = [c for c in statuses if c[0] != Ticket.Status.WITH_ORCID]
        self.fields["status"].choices = statuses
        self.fields["assignee"].queryset = services.lead_staff(ticket.consortium_id)
        self.fields["organisation"].queryset = (Organisation.objects.filter(consortium_id=ticket.consortium_id)
                                                .order_by("legal_name"))
        if ticket.organisation_id:
            self.fields["organisation"].required = True
            self.fields["organisation"].empty_label = None

    def clean_cc(self) -> list[str]:
        try:
            return services.clean_emails(self.cleaned_data.get("cc", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["cc"]) from exc


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Ticket.objects.none(), label=_("Merge into"),
                                    help_text=_("The ticket that carries on; this one is closed and its messages "
                                                "move there."))

    def __init__(self, *args: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
        self.fields["target"].label_from_instance = lambda t: f"{t.reference} {t.subject} ({t.get_status_display()})"
