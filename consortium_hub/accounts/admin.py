from django.contrib import admin

from consortium_hub.accounts.models import Invitation, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fk_name = "user"


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "orcid_id", "is_active", "is_staff")
    search_fields = ("email", "name", "orcid_id")
    exclude = ("password", "groups", "user_permissions", "is_superuser")
    inlines = [RoleAssignmentInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "role", "consortium", "organisation", "expires_at", "accepted_at")
    exclude = ("token_hash",)
