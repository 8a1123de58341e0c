from django.urls import path

from consortium_hub.directory import views
from consortium_hub.directory import views_import

app_name = "directory"

urlpatterns = [
    path("consortia/", views.ConsortiumList.as_view(), name="consortium_list"),
    path("consortia/new/", views.consortium_create, name="consortium_create"),
    path("consortia/<int:pk>/", views.consortium_detail, name="consortium_detail"),
    path("consortia/<int:pk>/edit/", views.consortium_edit, name="consortium_edit"),
    path("consortia/<int:pk>/history/", views.ConsortiumHistory.as_view(), name="consortium_history"),
    path("organisations/", views.OrganisationList.as_view(), name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<int:pk>/delete/", views.organisation_delete, name="organisation_delete"),
    path("organisations/<int:pk>/history/", views.OrganisationHistory.as_view(), name="organisation_history"),
    path("memberships/", views.MembershipList.as_view(), name="membership_list"),
    path("memberships/new/", views.membership_create, name="membership_create"),
    path("memberships/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
    path("memberships/<int:pk>/pin/", views.membership_pin, name="membership_pin"),
    path("memberships/<int:pk>/unpin/", views.membership_unpin, name="membership_unpin"),
    path("memberships/<int:pk>/history/", views.MembershipHistory.as_view(), name="membership_history"),
    path("contacts/", views.ContactList.as_view(), name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/history/", views.ContactHistory.as_view(), name="contact_history"),
    path("contact-rules/", views.contact_rule_breaches, name="contact_rule_breaches"),
    path("voting-contacts.csv", views.voting_contacts_csv, name="voting_contacts_csv"),
    path("changes/", views.change_feed, name="change_feed"),
    path("changes/acknowledge/", views.change_feed_acknowledge, name="change_feed_acknowledge"),
    path("search/", views.search, name="search"),
    path("export/<slug:kind>/", views.export, name="export"),
    path("imports/new/", views_import.import_start, name="import_start"),
    path("imports/<int:pk>/", views_import.import_preview, name="import_preview"),
    path("imports/<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
]
