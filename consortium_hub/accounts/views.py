from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from consortium_hub.accounts import services
from consortium_hub.accounts.forms import AcceptInvitationForm, InvitationForm
from consortium_hub.accounts.models import Invitation, RoleAssignment
from consortium_hub.core.access import get_for_user_or_404, require_area
from consortium_hub.core.roles import ADD, DELETE, VIEW
from consortium_hub.core.viewkit import form_page, paginate


@login_required
def people(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "people", VIEW)
    assignments = (RoleAssignment.objects.visible_to(request.user)
                   .select_related("user", "consortium", "organisation").order_by("user__email", "role"))
    invitations = (Invitation.objects.visible_to(request.user).filter(accepted_at__isnull=True)
                   .select_related("consortium", "organisation", "invited_by"))
    page = paginate(request, assignments)
    return render(request, "accounts/people.html", {"page": page, "objects": page.object_list,
                                                    "invitations": invitations})


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    require_area(request.user, "people", ADD)
    form = InvitationForm(request.POST or None, user=request.user)
    return form_page(request, form=form, template="accounts/invite.html",
                     save=lambda data: services.invitation_create(user=request.user, **data),
                     success_url="accounts:people", success_message=_("Invitation sent."))


@login_required
@require_POST
def revoke_role(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_for_user_or_404(request.user, RoleAssignment, DELETE, pk=pk)
    services.role_revoke(user=request.user, assignment=assignment)
    messages.success(request, _("Role removed."))
    return redirect("accounts:people")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None or invitation.accepted_at or invitation.is_expired:
        return render(request, "accounts/invitation_invalid.html", {"invitation": invitation}, status=410)
    if request.user.is_authenticated:
        if request.method == "POST":
            services.invitation_accept(token=token, name="", password=None, existing_user=request.user)
            messages.success(request, _("The role was added to your account."))
            return redirect("core:home")
        return render(request, "accounts/accept_existing.html", {"invitation": invitation})
    form = AcceptInvitationForm(request.POST or None, initial={"name": invitation.name})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, name=form.cleaned_data["name"],
                                              password=form.cleaned_data["password1"])
        except ValidationError as exc:
            form.add_error("password1" if "password" in str(exc).lower() else None, exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Consortium Hub."))
            return redirect("core:home")
    return render(request, "accounts/accept.html", {"form": form, "invitation": invitation})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/profile.html", {"token": token,
                                                     "roles": request.user.role_assignments.select_related(
                                                         "consortium", "organisation")})


@login_required
@require_POST
def regenerate_token(request: HttpRequest) -> HttpResponse:
    Token.objects.filter(user=request.user).delete()
    token = Token.objects.create(user=request.user)
    messages.success(request, _("Your new API token is %(key)s. Copy it now.") % {"key": token.key})
    return redirect("accounts:profile")
