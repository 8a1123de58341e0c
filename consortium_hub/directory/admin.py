from django.contrib import admin

from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation


class ContactRoleInline(admin.TabularInline):
    model = ContactRole
    extra = 0


@admin.register(Consortium)
class ConsortiumAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "billing_currency", "timezone", "status")
    search_fields = ("name",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("legal_name", "consortium", "country", "type", "ror_id")
    list_filter = ("consortium", "type")
    search_fields = ("legal_name", "public_name", "ror_id")
    list_select_related = ("consortium",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("organisation", "consortium", "status", "tier", "size", "start_date", "end_date")
    list_filter = ("consortium", "status", "tier")
    list_select_related = ("organisation", "consortium")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "organisation")
    search_fields = ("name", "email", "orcid_id")
    list_select_related = ("organisation",)
    inlines = [ContactRoleInline]
