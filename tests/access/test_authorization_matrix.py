"""Every route, every member of the cast, the expected status.

A route added without an expectation here fails `test_every_route_has_an_expectation`. Object routes
point at consortium A's objects, so lead_admin_b's row is the cross-consortium check (404 by id).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from consortium_hub.core.testing.cast import CAST_NAMES

ANON, ADMIN, ENG, SUP = "anonymous", "orcid_admin", "engagement_lead", "orcid_support"
LA, LS, MC, LB = "lead_admin_a", "lead_support_a", "member_contact_a", "lead_admin_b"
SIGNED_IN = [n for n in CAST_NAMES if n != ANON]

# Third-party routes with their own tests upstream; access to them is all-or-nothing (the admin is
# gated by core.admin_site, allauth's pages are the sign-in flow itself).
EXCLUDED_PREFIXES = ("admin:", "account_", "mfa_", "socialaccount_", "openid_connect_", "orcid_", "djdt")


def e(default: int, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    table = {name: default for name in SIGNED_IN}
    table[ANON] = anonymous
    table.update(overrides)
    return table


def only(allowed: int, who: list[str], others: int = 403, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    table = {name: (allowed if name in who else others) for name in SIGNED_IN}
    table[ANON] = anonymous
    table.update(overrides)
    return table


def api(default: int, **overrides: int) -> dict[str, int]:
    return e(default, anonymous=401, **overrides)


# Who sees an object of consortium A (organisation A / its contact / its membership).
SEES_A = [ADMIN, ENG, SUP, LA, LS, MC]
VIEW_A = only(200, SEES_A, others=404)
EDIT_A = only(200, [ADMIN, LA], others=403, **{LB: 404})
EDIT_CONTACT_A = only(200, [ADMIN, LA, MC], others=403, **{LB: 404})
API = {"anonymous": 401}
# Applications are reviewed by lead admins; members never see them.
REVIEW_A = only(302, [ADMIN, LA], others=403, **{MC: 404, LB: 404})
APP_VIEW_A = only(200, [ADMIN, ENG, SUP, LA, LS], others=404)
TEMPLATE_VIEW_A = only(200, [ADMIN, ENG, LA, LS], others=404)
TEMPLATE_EDIT_A = only(200, [ADMIN, LA], others=404, **{ENG: 403, LS: 403})
PLAN_VIEW_A = only(200, SEES_A, others=404)
# ORCID support and lead support hold no agreements grant.
AGREEMENT_VIEW_A = only(200, [ADMIN, ENG, LA, MC], others=403, **{LB: 404})
AGREEMENT_EDIT_A = only(200, [ADMIN, LA], others=403, **{LB: 404})
# Billing: engagement leads, ORCID support and lead support hold no billing grant. ORCID's invoice to
# the lead is for ORCID finance and the lead's finance staff (neither is in the cast but ORCID admin).
NO_BILLING = {ENG: 403, SUP: 403, LS: 403}
BILLING = e(200, **NO_BILLING)
BILL_VIEW_A = only(200, [ADMIN, LA, MC], others=404)
BILL_EDIT_A = only(200, [ADMIN, LA], others=404, **{MC: 403})
TICKET_VIEW_A = only(200, [ADMIN, ENG, LA, LS, MC], others=404)
DESK_A_POST = only(200, [ADMIN, LA, LS], others=403, **{SUP: 404, LB: 404})  # empty form: re-rendered with errors
DESK_A_API = api(403, **{ADMIN: 400, LA: 400, LS: 400, LB: 404})  # empty body: 400 where allowed
ANSWERS = only(200, [ADMIN, SUP, LA, LS, LB])
# Support: ORCID support works escalated tickets and problems; leads see problems their tickets link to.
PRB_EDIT = only(200, [ADMIN, SUP], others=403, **{MC: 404, LB: 404})
PRB_POST = only(302, [ADMIN, SUP], others=403, **{MC: 404, LB: 404})
ESC_A = lambda c: {"pk": _escalated_a(c).pk}  # noqa: E731
PRB_A = lambda c: {"pk": _problem_a(c).pk}  # noqa: E731
CMQ_A = lambda c: {"pk": _communique_a(c).pk}  # noqa: E731
COPY_A = lambda c: {"pk": _communique_a(c).recipients.get().pk}  # noqa: E731
# ORCID registry link: ORCID staff read affiliations; lead staff and the member (of organisation A) write them.
AFF_ADD = only(200, [ADMIN, LA, LS, MC, LB])
AFF_EDIT_A = only(200, [ADMIN, LA, LS, MC], others=403, **{LB: 404})
AFF_POST_A = only(302, [ADMIN, LA, LS, MC], others=403, **{LB: 404})
AFF_API_A = lambda ok: api(403, **{ADMIN: ok, LA: ok, LS: ok, MC: ok, LB: 404})  # noqa: E731
AFF_A = lambda c: {"pk": _affiliation_a(c).pk}  # noqa: E731
UPLOAD_A = lambda c: {"pk": _registry_a(c, "upload").pk}  # noqa: E731
GRANT_A = lambda c: {"pk": _registry_a(c, "grant").pk}  # noqa: E731
LINK_A = lambda c: {"pk": _registry_a(c, "link").pk}  # noqa: E731
CALL_A = lambda c: {"pk": _registry_a(c, "call").pk}  # noqa: E731
SNAPSHOT_A = lambda c: {"pk": _registry_a(c, "snapshot").pk}  # noqa: E731
CLIENT_A = lambda c: {"pk": _registry_a(c, "client").pk}  # noqa: E731


Route = tuple[str, str, Callable[[Any], dict[str, Any]], dict[str, int]]
NO_ARGS: Callable[[Any], dict[str, Any]] = lambda c: {}  # noqa: E731
CONSORTIUM_A = lambda c: {"pk": c.consortium_a.pk}  # noqa: E731
ORG_A = lambda c: {"pk": c.org_a.pk}  # noqa: E731
CONTACT_A = lambda c: {"pk": c.contact_a.pk}  # noqa: E731
MEMBERSHIP_A = lambda c: {"pk": c.membership_a.pk}  # noqa: E731

ROUTES: list[Route] = [
    ("core:home", "get", NO_ARGS, e(200)),
    ("core:coming", "get", lambda c: {"area": "reports"}, e(200)),
    ("healthz", "get", NO_ARGS, e(200, anonymous=200)),
    ("directory:consortium_list", "get", NO_ARGS, e(200)),
    ("directory:consortium_create", "get", NO_ARGS, only(200, [ADMIN])),
    ("directory:consortium_detail", "get", CONSORTIUM_A, VIEW_A),
    ("directory:consortium_edit", "get", CONSORTIUM_A, EDIT_A),
    ("directory:consortium_history", "get", CONSORTIUM_A, VIEW_A),
    ("directory:organisation_list", "get", NO_ARGS, e(200)),
    ("directory:organisation_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("directory:organisation_detail", "get", ORG_A, VIEW_A),
    ("directory:organisation_edit", "get", ORG_A, EDIT_A),
    ("directory:organisation_delete", "get", ORG_A, EDIT_A),
    ("directory:organisation_history", "get", ORG_A, VIEW_A),
    ("directory:membership_list", "get", NO_ARGS, e(200)),
    ("directory:membership_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("directory:membership_edit", "get", MEMBERSHIP_A, EDIT_A),
    ("directory:membership_history", "get", MEMBERSHIP_A, VIEW_A),
    ("directory:membership_pin", "get", MEMBERSHIP_A, EDIT_A),
    ("directory:membership_unpin", "post", MEMBERSHIP_A, only(302, [ADMIN, LA], others=403, **{LB: 404})),
    ("directory:contact_list", "get", NO_ARGS, e(200)),
    ("directory:contact_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB, MC])),
    ("directory:contact_detail", "get", CONTACT_A, VIEW_A),
    ("directory:contact_edit", "get", CONTACT_A, EDIT_CONTACT_A),
    ("directory:contact_delete", "get", CONTACT_A, EDIT_CONTACT_A),
    ("directory:contact_history", "get", CONTACT_A, VIEW_A),
    ("directory:contact_rule_breaches", "get", NO_ARGS, e(200)),
    ("directory:voting_contacts_csv", "get", NO_ARGS, e(200)),
    ("directory:change_feed", "get", NO_ARGS, only(200, [ADMIN, ENG])),
    ("directory:change_feed_acknowledge", "post", NO_ARGS, only(302, [ADMIN, ENG])),
    ("directory:search", "get", NO_ARGS, e(200)),
    ("directory:export", "get", lambda c: {"kind": "organisations"}, e(200)),
    ("directory:import_start", "get", NO_ARGS, only(200, [ADMIN, LA, LB, MC])),
    ("directory:import_preview", "get", lambda c: {"pk": _import_batch_of(c, LA)}, only(200, [LA], others=404)),
    ("directory:import_confirm", "post", lambda c: {"pk": _import_batch_of(c, LA)}, only(302, [LA], others=404)),
    ("accounts:people", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, LB])),
    ("accounts:invite", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("accounts:revoke_role", "post", lambda c: {"pk": c.users[LS].role_assignments.get().pk},
     only(302, [ADMIN, LA], others=404, **{ENG: 403})),
    ("accounts:accept_invitation", "get", lambda c: {"token": "not-a-real-token"}, e(410, anonymous=410)),
    ("accounts:profile", "get", NO_ARGS, e(200)),
    ("accounts:regenerate_token", "post", NO_ARGS, e(302)),
    ("audit:change_log", "get", NO_ARGS, only(200, [ADMIN])),
    ("jobs:run_list", "get", NO_ARGS, only(200, [ADMIN])),
    ("onboarding:training", "get", NO_ARGS, e(200, **{MC: 403})),
    ("onboarding:course_create", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, LB])),
    ("onboarding:training_record_create", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, LB])),
    # Calendars
    ("calendars:calendar_list", "get", NO_ARGS, e(200)),
    ("calendars:calendar_detail", "get", lambda c: _calendar_a(c), VIEW_A),
    ("calendars:calendar_edit", "get", lambda c: _calendar_a(c), EDIT_A),
    ("calendars:calendar_history", "get", lambda c: _calendar_a(c), VIEW_A),
    ("calendars:closure_add", "get", lambda c: _calendar_a(c), EDIT_A),
    ("calendars:closure_remove", "get", lambda c: _closure_a(c), EDIT_A),
    ("calendars:consortium_calendar", "get", lambda c: {"pk": c.consortium_a.pk}, only(302, SEES_A, others=404)),
    ("api:calendar-list", "get", NO_ARGS, api(200)),
    ("api:calendar-detail", "get", lambda c: _calendar_a(c), api(200, **{LB: 404})),
    ("api:calendar-detail", "patch", lambda c: _calendar_a(c), api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:calendar-closure-list", "get", NO_ARGS, api(200)),
    ("api:calendar-closure-detail", "get", lambda c: _closure_a(c), api(200, **{LB: 404})),
    ("api:calendar-closure-detail", "delete", lambda c: _closure_a(c), api(403, **{ADMIN: 204, LA: 204, LB: 404})),
    # Onboarding: applications
    ("onboarding:apply", "get", lambda c: {"consortium_pk": c.consortium_a.pk}, e(200, anonymous=200)),
    ("onboarding:application_status", "get", lambda c: {"token": _application_of(c).token}, e(200, anonymous=200)),
    ("onboarding:application_resubmit", "get", lambda c: {"token": _application_of(c).token},
     e(302, anonymous=302)),
    ("onboarding:application_list", "get", NO_ARGS, e(200)),
    ("onboarding:application_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("onboarding:application_detail", "get", lambda c: _application_a(c), APP_VIEW_A),
    ("onboarding:application_document", "get", lambda c: _application_a(c), APP_VIEW_A),
    ("onboarding:application_history", "get", lambda c: _application_a(c), APP_VIEW_A),
    ("onboarding:application_approve", "post", lambda c: _application_a(c), REVIEW_A),
    ("onboarding:application_decline", "post", lambda c: _application_a(c), REVIEW_A),
    ("onboarding:application_request_changes", "post", lambda c: _application_a(c), REVIEW_A),
    ("api:application-list", "get", NO_ARGS, api(200)),
    ("api:application-detail", "get", lambda c: _application_a(c), api(200, **{MC: 404, LB: 404})),
    ("api:application-approve", "post", lambda c: _application_a(c), api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:application-decline", "post", lambda c: _application_a(c), api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:application-request-changes", "post", lambda c: _application_a(c),
     api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    # Onboarding: plans and templates (A's template with one lead task; a member plan of A from it)
    ("onboarding:home", "get", NO_ARGS, e(200)),
    ("onboarding:template_list", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, LS, LB])),
    ("onboarding:template_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("onboarding:template_detail", "get", lambda c: {"pk": _template_a(c).pk}, TEMPLATE_VIEW_A),
    ("onboarding:template_history", "get", lambda c: {"pk": _template_a(c).pk}, TEMPLATE_VIEW_A),
    ("onboarding:template_edit", "get", lambda c: {"pk": _template_a(c).pk}, TEMPLATE_EDIT_A),
    ("onboarding:template_task_add", "get", lambda c: {"pk": _template_a(c).pk}, TEMPLATE_EDIT_A),
    ("onboarding:template_task_edit", "get", lambda c: {"pk": _template_a(c).tasks.get().pk}, TEMPLATE_EDIT_A),
    ("onboarding:template_task_delete", "get", lambda c: {"pk": _template_a(c).tasks.get().pk}, TEMPLATE_EDIT_A),
    ("onboarding:template_task_move", "post", lambda c: {"pk": _template_a(c).tasks.get().pk},
     only(302, [ADMIN, LA], others=404, **{ENG: 403, LS: 403})),
    ("onboarding:plan_list", "get", NO_ARGS, e(200)),
    ("onboarding:plan_start", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("onboarding:plan_detail", "get", lambda c: {"pk": _plan_a(c).pk}, PLAN_VIEW_A),
    ("onboarding:plan_activate", "get", lambda c: {"pk": _plan_a(c).pk}, PLAN_VIEW_A),
    ("onboarding:plan_history", "get", lambda c: {"pk": _plan_a(c).pk}, PLAN_VIEW_A),
    ("onboarding:task_complete", "get", lambda c: {"pk": _plan_a(c).tasks.get().pk},
     only(200, [LA, LS], others=403, **{LB: 404})),
    ("onboarding:task_reopen", "post", lambda c: {"pk": _plan_a(c).tasks.get().pk},
     only(302, [ADMIN, LA], others=403, **{LB: 404})),
    ("onboarding:task_evidence", "get", lambda c: {"pk": _plan_a(c).tasks.get().pk}, e(404)),
    ("api:plan-template-list", "get", NO_ARGS, api(200, **{SUP: 403, MC: 403})),
    ("api:plan-template-detail", "get", lambda c: {"pk": _template_a(c).pk},
     api(200, **{SUP: 403, MC: 403, LB: 404})),
    ("api:plan-list", "get", NO_ARGS, api(200)),
    ("api:plan-detail", "get", lambda c: {"pk": _plan_a(c).pk}, api(200, **{LB: 404})),
    ("api:plan-start", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LB: 400})),
    ("api:plan-activate", "post", lambda c: {"pk": _plan_a(c).pk}, api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:plan-task-list", "get", NO_ARGS, api(200)),
    ("api:plan-task-detail", "get", lambda c: {"pk": _plan_a(c).tasks.get().pk}, api(200, **{LB: 404})),
    ("api:plan-task-complete", "post", lambda c: {"pk": _plan_a(c).tasks.get().pk},
     api(403, **{LA: 200, LS: 200, LB: 404})),
    ("api:plan-task-reopen", "post", lambda c: {"pk": _plan_a(c).tasks.get().pk},
     api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    # Agreements
    ("agreements:agreement_list", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, MC, LB])),
    ("agreements:renewal_pipeline", "get", NO_ARGS, only(200, [ADMIN, ENG, LA, MC, LB])),
    ("agreements:agreement_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("agreements:agreement_detail", "get", lambda c: _agreement_a(c), AGREEMENT_VIEW_A),
    ("agreements:agreement_history", "get", lambda c: _agreement_a(c), AGREEMENT_VIEW_A),
    ("agreements:agreement_document", "get", lambda c: _agreement_a(c), AGREEMENT_VIEW_A),
    ("agreements:agreement_edit", "get", lambda c: _agreement_a(c), AGREEMENT_EDIT_A),
    ("agreements:agreement_decide", "get", lambda c: _agreement_a(c), AGREEMENT_EDIT_A),
    ("agreements:agreement_detail", "get", lambda c: _lead_agreement_a(c),
     only(200, [ADMIN, ENG, LA], others=403, **{MC: 404, LB: 404})),
    ("agreements:agreement_edit", "get", lambda c: _lead_agreement_a(c), only(200, [ADMIN], others=403, **{LB: 404})),
    ("api:agreement-list", "get", NO_ARGS, api(200, **{SUP: 403, LS: 403})),
    ("api:agreement-list", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LB: 400})),
    ("api:agreement-detail", "get", lambda c: _agreement_a(c), api(200, **{SUP: 403, LS: 403, LB: 404})),
    ("api:agreement-detail", "patch", lambda c: _agreement_a(c), api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:agreement-decide", "post", lambda c: _agreement_a(c), api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:agreement-document", "get", lambda c: _agreement_a(c), api(200, **{SUP: 403, LS: 403, LB: 404})),
    ("api:renewal-decision-list", "get", NO_ARGS, api(200, **{SUP: 403, LS: 403})),
    ("api:renewal-decision-detail", "get", lambda c: _decision_a(c), api(200, **{SUP: 403, LS: 403, LB: 404})),
    # Billing: fee schedules (A's 2026 schedule) and cycles (A's 2026 cycle, with a schedule so a commit issues)
    ("billing:fee_schedule_list", "get", NO_ARGS, only(200, [ADMIN, LA, MC, LB])),
    ("billing:fee_schedule_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("billing:fee_schedule_detail", "get", lambda c: _fee_schedule_a(c), only(200, [ADMIN, LA], others=404)),
    ("billing:fee_schedule_edit", "get", lambda c: _fee_schedule_a(c), only(200, [ADMIN, LA], others=404)),
    ("billing:fee_schedule_history", "get", lambda c: _fee_schedule_a(c), only(200, [ADMIN, LA], others=404)),
    ("billing:cycle_list", "get", NO_ARGS, only(200, [ADMIN, LA, MC, LB])),
    ("billing:cycle_open", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("billing:cycle_detail", "get", lambda c: _cycle_page_a(c), only(200, [ADMIN, LA], **{LB: 404})),
    ("billing:cycle_commit", "get", lambda c: _cycle_page_a(c), only(200, [ADMIN, LA], **{LB: 404})),
    ("billing:cycle_commit", "post", lambda c: _cycle_page_a(c), only(302, [ADMIN, LA], **{LB: 404})),
    ("api:fee-schedule-list", "get", NO_ARGS, api(200, **NO_BILLING)),
    ("api:fee-schedule-detail", "get", lambda c: _fee_schedule_a(c), api(404, **{ADMIN: 200, LA: 200}, **NO_BILLING)),
    ("api:fee-schedule-detail", "patch", lambda c: _fee_schedule_a(c), api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:fee-schedule-detail", "delete", lambda c: _fee_schedule_a(c), api(403, **{ADMIN: 204, LA: 204, LB: 404})),
    ("api:fee-schedule-copy", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LB: 400})),
    ("api:billing-cycle-list", "get", NO_ARGS, api(200, **NO_BILLING)),
    ("api:billing-cycle-list", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LB: 400})),
    ("api:billing-cycle-detail", "get", lambda c: _cycle_a(c), api(404, **{ADMIN: 200, LA: 200}, **NO_BILLING)),
    ("api:billing-cycle-dry-run", "get", lambda c: _cycle_a(c), api(404, **{ADMIN: 200, LA: 200}, **NO_BILLING)),
    ("api:billing-cycle-commit", "post", lambda c: _cycle_a(c), api(403, **{ADMIN: 201, LA: 201, LB: 404})),
    # Billing: invoices, payments, statements, receivables, settings
    ("billing:invoice_list", "get", NO_ARGS, BILLING),
    ("billing:invoice_create", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("billing:overdue_list", "get", NO_ARGS, BILLING),
    ("billing:invoice_detail", "get", lambda c: _invoice_a(c), BILL_VIEW_A),
    ("billing:invoice_detail", "get", lambda c: _orcid_invoice_a(c), only(200, [ADMIN], others=404)),
    ("billing:invoice_history", "get", lambda c: _invoice_a(c), BILL_VIEW_A),
    ("billing:invoice_pdf", "get", lambda c: _invoice_a(c), BILL_VIEW_A),
    ("billing:invoice_pdf", "get", lambda c: _orcid_invoice_a(c), only(200, [ADMIN], others=404)),
    ("billing:invoice_issue", "post", lambda c: _draft_a(c), only(302, [ADMIN, LA], others=404)),
    ("billing:invoice_void", "get", lambda c: _draft_a(c), only(200, [ADMIN, LA], others=404)),
    ("billing:payment_create", "get", lambda c: _invoice_a(c), BILL_EDIT_A),
    ("billing:credit_note_create", "get", lambda c: _invoice_a(c), BILL_EDIT_A),
    ("billing:statement", "get", ORG_A, only(200, [ADMIN, LA, MC], others=403, **{LB: 404})),
    ("billing:statement_csv", "get", ORG_A, only(200, [ADMIN, LA, MC], others=403, **{LB: 404})),
    ("billing:receivables", "get", NO_ARGS, BILLING),
    ("billing:receivables_csv", "get", NO_ARGS, BILLING),
    ("billing:settings", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("api:invoice-list", "get", NO_ARGS, api(200, **NO_BILLING)),
    ("api:invoice-detail", "get", lambda c: _invoice_a(c), api(200, **NO_BILLING, **{LB: 404})),
    ("api:invoice-detail", "get", lambda c: _orcid_invoice_a(c), api(404, **NO_BILLING, **{ADMIN: 200})),
    ("api:invoice-issue", "post", lambda c: _draft_a(c), api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:invoice-credit", "post", lambda c: _invoice_a(c), api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:invoice-pay", "post", lambda c: _invoice_a(c), api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:payment-list", "get", NO_ARGS, api(200, **NO_BILLING)),
    ("api:payment-detail", "get", lambda c: _payment_a(c), api(200, **NO_BILLING, **{LB: 404})),
    ("api:receivables-list", "get", NO_ARGS, api(200, **NO_BILLING)),
    # Support: tickets and saved answers
    ("support:ticket_list", "get", NO_ARGS, e(200, **{SUP: 403})),
    ("support:ticket_create", "get", NO_ARGS, only(200, [ADMIN, LA, LS, MC, LB])),
    ("support:ticket_detail", "get", lambda c: _desk_ticket_a(c), TICKET_VIEW_A),
    ("support:ticket_reply", "post", lambda c: _desk_ticket_a(c),
     only(200, [ADMIN, LA, LS, MC], **{SUP: 404, LB: 404})),
    ("support:ticket_note", "post", lambda c: _desk_ticket_a(c), DESK_A_POST),
    ("support:ticket_update", "post", lambda c: _desk_ticket_a(c), DESK_A_POST),
    ("support:ticket_merge", "get", lambda c: _desk_ticket_a(c), DESK_A_POST),
    ("support:ticket_history", "get", lambda c: _desk_ticket_a(c), only(200, [ADMIN, ENG, LA, LS], **{SUP: 404, LB: 404})),
    ("support:ticket_attachment", "get", lambda c: _attachment_a(c), TICKET_VIEW_A),
    ("support:answer_list", "get", NO_ARGS, ANSWERS),
    ("support:answer_create", "get", NO_ARGS, ANSWERS),
    ("support:answer_edit", "get", lambda c: _answer_a(c), only(200, [ADMIN, LA, LS], **{SUP: 404, LB: 404})),
    ("support:answer_insert", "get", NO_ARGS, ANSWERS),
    ("api:ticket-list", "get", NO_ARGS, api(200, **{SUP: 403})),
    ("api:ticket-detail", "get", lambda c: _desk_ticket_a(c), api(200, **{SUP: 403, LB: 404})),
    ("api:ticket-messages", "get", lambda c: _desk_ticket_a(c), api(200, **{SUP: 403, LB: 404})),
    ("api:ticket-reply", "post", lambda c: _desk_ticket_a(c),
     api(403, **{ADMIN: 400, LA: 400, LS: 400, MC: 400, LB: 404})),
    ("api:ticket-note", "post", lambda c: _desk_ticket_a(c), DESK_A_API),
    ("api:ticket-status", "post", lambda c: _desk_ticket_a(c), DESK_A_API),
    ("api:ticket-assign", "post", lambda c: _desk_ticket_a(c), DESK_A_API),
    ("api:ticket-merge", "post", lambda c: _desk_ticket_a(c), DESK_A_API),
    ("api:saved-answer-list", "get", NO_ARGS, api(200, **{ENG: 403, MC: 403})),
    ("api:saved-answer-detail", "get", lambda c: _answer_a(c),
     api(403, **{ADMIN: 200, LA: 200, LS: 200, SUP: 404, LB: 404})),
    ("api:saved-answer-detail", "patch", lambda c: _answer_a(c),
     api(403, **{ADMIN: 200, LA: 200, LS: 200, SUP: 404, LB: 404})),
    # Support: SLAs
    ("support:sla_home", "get", NO_ARGS, e(200)),
    ("support:sla_orcid_policies", "get", NO_ARGS, e(200)),
    ("support:sla_policies", "get", CONSORTIUM_A, only(200, [ADMIN, ENG, LA, LS], **{LB: 404})),
    ("support:sla_report", "get", CONSORTIUM_A, only(200, [ADMIN, ENG, LA, LS], **{LB: 404})),
    ("support:sla_report_csv", "get", CONSORTIUM_A, only(200, [ADMIN, ENG, LA, LS], **{LB: 404})),
    ("api:sla-policy-list", "get", NO_ARGS, api(200)),
    ("api:sla-policy-detail", "get", lambda c: _sla_policy_a(c), api(200, **{SUP: 404, MC: 404, LB: 404})),
    ("api:sla-policy-detail", "patch", lambda c: _sla_policy_a(c),
     api(403, **{ADMIN: 200, LA: 200, LS: 200, SUP: 404, LB: 404})),
    ("api:sla-report-detail", "get", CONSORTIUM_A, api(200, **{SUP: 403, MC: 403, LB: 404})),
    # Support: escalation to ORCID
    ("support:ticket_escalate", "get", lambda c: {"pk": _ticket_a(c).pk},
     only(200, [ADMIN, LA, LS], others=403, **{SUP: 404, LB: 404})),
    ("support:ticket_orcid_reply", "post", ESC_A, only(302, [ADMIN, LA, LS], others=403, **{SUP: 404, LB: 404})),
    ("support:orcid_queue", "get", NO_ARGS, only(200, [ADMIN, SUP])),
    ("support:orcid_ticket", "get", ESC_A, only(200, [ADMIN, SUP], others=404)),
    ("support:orcid_ticket_take", "post", ESC_A, only(302, [ADMIN, SUP], others=404)),
    ("support:orcid_ticket_reply", "post", ESC_A, only(302, [ADMIN, SUP], others=404)),
    ("support:orcid_ticket_resolve", "post", ESC_A, only(302, [ADMIN, SUP], others=404)),
    ("support:orcid_ticket_hand_back", "post", ESC_A, only(302, [ADMIN, SUP], others=404)),
    ("api:orcid-ticket-list", "get", NO_ARGS, api(403, **{ADMIN: 200, SUP: 200})),
    ("api:orcid-ticket-detail", "get", ESC_A, api(403, **{ADMIN: 200, SUP: 200})),
    ("api:orcid-ticket-take", "post", ESC_A, api(403, **{ADMIN: 200, SUP: 200})),
    ("api:orcid-ticket-reply", "post", ESC_A, api(403, **{ADMIN: 400, SUP: 400})),
    ("api:orcid-ticket-resolve", "post", ESC_A, api(403, **{ADMIN: 200, SUP: 200})),
    ("api:orcid-ticket-hand-back", "post", ESC_A, api(403, **{ADMIN: 400, SUP: 400})),
    ("api:escalation-list", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LS: 400, LB: 400})),
    # Support: problems
    ("support:problem_list", "get", NO_ARGS, e(200, **{MC: 403})),
    ("support:problem_create", "get", NO_ARGS, only(200, [ADMIN, SUP])),
    ("support:problem_detail", "get", PRB_A, only(200, [ADMIN, ENG, SUP, LA, LS], others=404)),
    ("support:problem_edit", "get", PRB_A, PRB_EDIT),
    ("support:problem_article", "get", PRB_A, PRB_EDIT),
    ("support:problem_link", "post", PRB_A, PRB_POST),
    ("support:problem_unlink", "post", PRB_A, PRB_POST),
    ("api:problem-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:problem-list", "post", NO_ARGS, api(403, **{ADMIN: 400, SUP: 400})),
    ("api:problem-detail", "get", PRB_A, api(200, **{MC: 403, LB: 404})),
    ("api:problem-detail", "patch", PRB_A, api(403, **{ADMIN: 200, SUP: 200})),
    ("api:problem-detail", "delete", PRB_A, api(403, **{ADMIN: 204, SUP: 204})),
    ("api:problem-link", "post", PRB_A, api(403, **{ADMIN: 400, SUP: 400})),
    ("api:problem-unlink", "post", PRB_A, api(403, **{ADMIN: 400, SUP: 400})),
    # Communiqués
    ("communiques:list", "get", NO_ARGS, e(200, **{MC: 403})),
    ("communiques:send", "get", NO_ARGS, only(200, [ADMIN, ENG])),
    ("communiques:stats", "get", NO_ARGS, e(200, **{MC: 403})),
    ("communiques:detail", "get", CMQ_A, only(200, [ADMIN, ENG, SUP, LA, LS], others=404)),
    ("communiques:respond", "get", COPY_A, only(200, [LA, LS], others=403, **{MC: 404, LB: 404})),
    ("api:communique-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:communique-list", "post", NO_ARGS, api(403, **{ADMIN: 400, ENG: 400})),
    ("api:communique-detail", "get", CMQ_A, api(200, **{MC: 403, LB: 404})),
    ("api:communique-copy-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:communique-copy-detail", "get", COPY_A, api(200, **{MC: 403, LB: 404})),
    ("api:communique-copy-respond", "post", COPY_A, api(403, **{LA: 400, LS: 400, LB: 404})),
    # ORCID registry link: affiliations, uploads, permissions, calls to ORCID, credentials, adoption
    ("registry:home", "get", NO_ARGS, e(302)),
    ("registry:affiliation_list", "get", NO_ARGS, e(200)),
    ("registry:affiliation_create", "get", NO_ARGS, AFF_ADD),
    ("registry:affiliation_detail", "get", AFF_A, VIEW_A),
    ("registry:affiliation_history", "get", AFF_A, VIEW_A),
    ("registry:affiliation_edit", "get", AFF_A, AFF_EDIT_A),
    ("registry:affiliation_delete", "get", AFF_A, AFF_EDIT_A),
    # The row is not in error, so the service refuses and the page says why (a redirect with a message).
    ("registry:affiliation_retry", "post", AFF_A, AFF_POST_A),
    ("registry:affiliation_export", "get", NO_ARGS, e(200)),
    ("registry:affiliation_status_export", "get", NO_ARGS, e(200)),
    ("registry:upload_list", "get", NO_ARGS, e(200)),
    ("registry:upload_create", "get", NO_ARGS, AFF_ADD),
    ("registry:upload_detail", "get", UPLOAD_A, VIEW_A),
    ("registry:upload_apply", "post", UPLOAD_A, AFF_POST_A),  # no file stored: refused with a message
    ("registry:grant_list", "get", NO_ARGS, e(200)),
    ("registry:link_list", "get", NO_ARGS, e(200)),
    # The links are credentials: only those who may act for a member download them.
    ("registry:link_export", "get", NO_ARGS, e(200, **{ENG: 403, SUP: 403})),
    ("registry:link_resend", "post", LINK_A, AFF_POST_A),
    ("registry:call_list", "get", NO_ARGS, e(200, **{MC: 403})),
    ("registry:settings_list", "get", NO_ARGS, only(200, [ADMIN, LA, LB])),
    ("registry:settings_edit", "get", lambda c: {"consortium_pk": c.consortium_a.pk},
     only(200, [ADMIN, LA], others=404)),
    ("registry:adoption", "get", NO_ARGS, e(200)),
    ("registry:adoption_csv", "get", NO_ARGS, e(200)),
    # The researcher's public pages: the link is the credential, so everyone gets the same answer.
    ("registry:permission_start", "get", lambda c: {"token": "not-a-real-token"}, e(404, anonymous=404)),
    ("registry:permission_callback", "get", NO_ARGS, e(400, anonymous=400)),
    ("api:registry-affiliation-list", "get", NO_ARGS, api(200)),
    ("api:registry-affiliation-list", "post", NO_ARGS, api(400, **{ENG: 403, SUP: 403})),
    ("api:registry-affiliation-detail", "get", AFF_A, api(200, **{LB: 404})),
    ("api:registry-affiliation-detail", "patch", AFF_A, AFF_API_A(200)),
    ("api:registry-affiliation-detail", "delete", AFF_A, AFF_API_A(200)),
    ("api:registry-affiliation-retry", "post", AFF_A, AFF_API_A(400)),
    ("api:registry-upload-list", "get", NO_ARGS, api(200)),
    ("api:registry-upload-list", "post", NO_ARGS, api(400, **{ENG: 403, SUP: 403})),
    ("api:registry-upload-detail", "get", UPLOAD_A, api(200, **{LB: 404})),
    ("api:registry-upload-apply", "post", UPLOAD_A, AFF_API_A(400)),
    ("api:registry-grant-list", "get", NO_ARGS, api(200)),
    ("api:registry-grant-detail", "get", GRANT_A, api(200, **{LB: 404})),
    ("api:registry-permission-link-list", "get", NO_ARGS, api(200)),
    ("api:registry-permission-link-detail", "get", LINK_A, api(200, **{LB: 404})),
    ("api:registry-call-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:registry-call-detail", "get", CALL_A, api(200, **{MC: 403, LB: 404})),
    ("api:adoption-snapshot-list", "get", NO_ARGS, api(200)),
    ("api:adoption-snapshot-detail", "get", SNAPSHOT_A, api(200, **{LB: 404})),
    ("api:registry-client-list", "get", NO_ARGS, api(403, **{ADMIN: 200, LA: 200, LB: 200})),
    ("api:registry-client-list", "post", NO_ARGS, api(403, **{ADMIN: 400, LA: 400, LB: 400})),
    ("api:registry-client-detail", "get", CLIENT_A, api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:registry-client-detail", "patch", CLIENT_A, api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    # REST API
    ("api:api-root", "get", NO_ARGS, api(200)),
    ("api:schema", "get", NO_ARGS, api(200)),
    ("api:docs", "get", NO_ARGS, api(200)),
    ("api:consortium-list", "get", NO_ARGS, api(200)),
    ("api:consortium-detail", "get", CONSORTIUM_A, api(200, **{LB: 404})),
    ("api:organisation-list", "get", NO_ARGS, api(200)),
    ("api:organisation-detail", "get", ORG_A, api(200, **{LB: 404})),
    ("api:organisation-detail", "patch", ORG_A, api(403, **{ADMIN: 200, LA: 200, LB: 404})),
    ("api:organisation-detail", "delete", ORG_A, api(403, **{ADMIN: 400, LA: 400, LB: 404})),
    ("api:contact-list", "get", NO_ARGS, api(200)),
    ("api:contact-detail", "get", CONTACT_A, api(200, **{LB: 404})),
    ("api:contact-detail", "patch", CONTACT_A, api(403, **{ADMIN: 200, LA: 200, MC: 200, LB: 404})),
    ("api:membership-list", "get", NO_ARGS, api(200)),
    ("api:membership-detail", "get", MEMBERSHIP_A, api(200, **{LB: 404})),
    ("api:change-list", "get", NO_ARGS, api(403, **{ADMIN: 200, ENG: 200})),
    ("api:change-detail", "get", lambda c: {"pk": _first_change_of(c.org_a)}, api(403, **{ADMIN: 200, ENG: 200})),
    ("api:course-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:course-detail", "get", lambda c: {"pk": _course_of(c.consortium_a)}, api(200, **{MC: 403, LB: 404})),
    ("api:training-record-list", "get", NO_ARGS, api(200, **{MC: 403})),
    ("api:training-record-detail", "get", lambda c: {"pk": _training_record_in(c)},
     api(200, **{MC: 403, LB: 404})),
    ("api:change-acknowledge", "post", NO_ARGS, api(403, **{ADMIN: 200, ENG: 200})),
    ("api:import-list", "get", NO_ARGS, api(200)),
    ("api:import-detail", "get", lambda c: {"pk": _import_batch_of(c, LA)}, api(404, **{LA: 200})),
    # The batch has no rows, so even its uploader cannot confirm it (400); nobody else can see it.
    ("api:import-confirm", "post", lambda c: {"pk": _import_batch_of(c, LA)}, api(404, **{LA: 400})),
]

# Routes whose list-API responses must not carry consortium A's rows for lead_admin_b.
PATCH_BODIES = {"api:organisation-detail": {"city": "Leeds"}, "api:contact-detail": {"phone": "+44 1"},
                "api:calendar-detail": {"name": "Alpha hours"}, "api:agreement-detail": {"notice_days": 60},
                "api:saved-answer-detail": {"title": "Renamed"}, "api:sla-policy-detail": {"first_response_hours": "6"},
                "api:registry-affiliation-detail": {"role_title": "Professor"},
                "api:registry-client-detail": {"rate_per_second": 10}}


def _first_change_of(obj: Any) -> int:
    from consortium_hub.audit.models import ChangeRecord

    return ChangeRecord.objects.filter(object_id=str(obj.pk), content_type__model="organisation").first().pk


def _import_batch_of(c: Any, who: str) -> int:
    """An import batch is seen only by its uploader, whatever their role."""
    from consortium_hub.directory.models import ImportBatch

    return ImportBatch.objects.create(kind="organisations", created_by=c.users[who]).pk


def _calendar_a(c: Any) -> dict[str, int]:
    from consortium_hub.calendars.selectors import calendar_for_consortium

    return {"pk": calendar_for_consortium(c.consortium_a).pk}


def _closure_a(c: Any) -> dict[str, int]:
    import datetime as dt

    from consortium_hub.calendars import services
    from consortium_hub.calendars.selectors import calendar_for_consortium

    calendar = calendar_for_consortium(c.consortium_a)
    return {"pk": services.closure_add(user=None, calendar=calendar, date=dt.date(2026, 12, 24),
                                       reason="Christmas closure").pk}


def _application_of(c: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consortium_hub.onboarding.services.applications import application_submit, earliest_start

    return application_submit(consortium=c.consortium_a, user=None, legal_name="Gamma Research Institute",
                              country="GB", city="Leeds", contact_name="Grace Gamma",
                              contact_email="grace@gamma.example", wished_start=earliest_start(),
                              attachment=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"))


def _application_a(c: Any) -> dict[str, int]:
    return {"pk": _application_of(c).application.pk}


def _template_a(c: Any) -> Any:
    from consortium_hub.onboarding.models import PlanKind, PlanTemplate, TaskTemplate

    template = PlanTemplate.objects.filter(consortium=c.consortium_a, name="Matrix template").first()
    if template is None:
        template = PlanTemplate.objects.create(consortium=c.consortium_a, name="Matrix template",
                                               kind=PlanKind.MEMBER)
        TaskTemplate.objects.create(template=template, title="Welcome call", owner_party="lead", due_offset=5)
    return template


def _plan_a(c: Any) -> Any:
    import datetime as dt

    from consortium_hub.onboarding.services.plans import plan_start

    return plan_start(user=None, consortium=c.consortium_a, kind="member", membership=c.membership_a,
                      template=_template_a(c), start_date=dt.date(2026, 12, 1))


def _agreement_a(c: Any) -> dict[str, int]:
    """Alpha University's member agreement, with a signed PDF."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from consortium_hub.agreements.models import Agreement
    from consortium_hub.agreements.services import agreement_create

    found = Agreement.objects.filter(organisation=c.org_a).first() or agreement_create(
        user=c.users[ADMIN], kind="member", membership=c.membership_a, start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31), document=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"))
    return {"pk": found.pk}


def _lead_agreement_a(c: Any) -> dict[str, int]:
    import datetime as dt

    from consortium_hub.agreements.services import agreement_create

    return {"pk": agreement_create(user=c.users[ADMIN], kind="lead", consortium=c.consortium_a,
                                   start_date=dt.date(2025, 7, 1), end_date=dt.date(2026, 6, 30)).pk}


def _decision_a(c: Any) -> dict[str, int]:
    from consortium_hub.agreements.models import Agreement
    from consortium_hub.agreements.services import renewal_decide

    agreement = Agreement.objects.get(pk=_agreement_a(c)["pk"])
    return {"pk": renewal_decide(user=c.users[ADMIN], agreement=agreement, decision="renew").pk}


def _invoice_a(c: Any) -> dict[str, int]:
    from consortium_hub.billing.services.invoices import LineInput, invoice_create_manual, invoice_issue

    draft = invoice_create_manual(user=None, issuer="lead", consortium=c.consortium_a,
                                  recipient_organisation=c.org_a, lines=[LineInput("Membership 2026", 1, "1000.00")])
    return {"pk": invoice_issue(user=None, invoice=draft).pk}


def _draft_a(c: Any) -> dict[str, int]:
    from consortium_hub.billing.services.invoices import LineInput, invoice_create_manual

    return {"pk": invoice_create_manual(user=None, issuer="lead", consortium=c.consortium_a,
                                        recipient_organisation=c.org_a,
                                        lines=[LineInput("Membership 2026", 1, "1000.00")]).pk}


def _orcid_invoice_a(c: Any) -> dict[str, int]:
    from consortium_hub.billing.services.invoices import LineInput, invoice_create_manual, invoice_issue

    draft = invoice_create_manual(user=None, issuer="orcid", consortium=c.consortium_a,
                                  lines=[LineInput("Licence fees 2026", 2, "1500.00")])
    return {"pk": invoice_issue(user=None, invoice=draft).pk}


def _payment_a(c: Any) -> dict[str, int]:
    from django.utils import timezone

    from consortium_hub.billing.models import Invoice
    from consortium_hub.billing.services.payments import payment_record

    invoice = Invoice.objects.get(pk=_invoice_a(c)["pk"])
    return {"pk": payment_record(user=None, invoice=invoice, amount="100.00", received_on=timezone.localdate()).pk}


def _ticket_a(c: Any, **fields: Any) -> Any:
    from consortium_hub.support.models import Ticket

    fields.setdefault("status", "open")
    return Ticket.objects.create(consortium=c.consortium_a, organisation=c.org_a,
                                 reference=f"MX-{Ticket.objects.count() + 1}", subject="Matrix ticket",
                                 requester_email="ann@alpha.example", **fields)


def _escalated_a(c: Any) -> Any:
    from django.utils import timezone

    return _ticket_a(c, tier=2, escalated_at=timezone.now(), escalation_summary="Matrix", orcid_status="new",
                     status="with_orcid")


def _problem_a(c: Any) -> Any:
    from consortium_hub.support.models import Problem

    problem = Problem.objects.create(reference="PRB-999999", title="Matrix problem")
    problem.tickets.add(_escalated_a(c))
    return problem


def _communique_a(c: Any) -> Any:
    from consortium_hub.communiques.services.communiques import communique_send

    return communique_send(user=c.users[ADMIN], subject="Matrix", body="Reply", consortia=[c.consortium_a])


def _desk_ticket_a(c: Any) -> dict[str, int]:
    """A ticket raised by A's member contact through the service, with a PDF attached."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consortium_hub.support.models import Ticket
    from consortium_hub.support.services.tickets import ticket_create

    ticket = Ticket.objects.filter(consortium=c.consortium_a, subject="Desk ticket").first() or ticket_create(
        user=c.users[MC], organisation=c.org_a, subject="Desk ticket", body="Please help",
        category="technical", priority="normal", attachments=[SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")])
    return {"pk": ticket.pk}


def _attachment_a(c: Any) -> dict[str, int]:
    from consortium_hub.support.models import Ticket

    ticket = Ticket.objects.get(pk=_desk_ticket_a(c)["pk"])
    return {"pk": ticket.messages.first().attachments.get().pk}


def _answer_a(c: Any) -> dict[str, int]:
    from consortium_hub.support.models import SavedAnswer

    answer = SavedAnswer.objects.filter(consortium=c.consortium_a).first() or SavedAnswer.objects.create(
        consortium=c.consortium_a, title="Matrix answer", body="b")
    return {"pk": answer.pk}


def _sla_policy_a(c: Any) -> dict[str, int]:
    from consortium_hub.support.models import SLAPolicy
    from consortium_hub.support.services.sla import ensure_default_sla_policies

    ensure_default_sla_policies(c.consortium_a)
    return {"pk": SLAPolicy.objects.get(consortium=c.consortium_a, priority="normal").pk}


def _fee_schedule_a(c: Any) -> dict[str, int]:
    from consortium_hub.billing.models import FeeSchedule
    from consortium_hub.billing.services.fees import fee_schedule_create

    schedule = FeeSchedule.objects.filter(consortium=c.consortium_a, year=2026).first()
    if schedule is None:
        schedule = fee_schedule_create(user=c.users[LA], consortium=c.consortium_a, year=2026,
                                       rates={("licence", "basic", ""): "1000.00",
                                              ("consortium", "basic", "standard"): "200.00"})
    return {"pk": schedule.pk}


def _cycle_a(c: Any) -> dict[str, int]:
    from consortium_hub.billing.services.cycles import cycle_open

    _fee_schedule_a(c)
    return {"pk": cycle_open(user=c.users[LA], consortium=c.consortium_a, year=2026).pk}


def _cycle_page_a(c: Any) -> dict[str, int]:
    _cycle_a(c)
    return {"consortium_pk": c.consortium_a.pk, "year": 2026}


def _course_of(consortium: Any) -> int:
    from consortium_hub.onboarding.models import Course

    return Course.objects.create(consortium=consortium, title="Internal", kind=Course.Kind.INTERNAL).pk


def _training_record_in(cast: Any) -> int:
    import datetime as dt

    from consortium_hub.onboarding.models import Course, TrainingRecord

    course = Course.objects.get(pk=_course_of(cast.consortium_a))
    return TrainingRecord.objects.create(consortium=cast.consortium_a, course=course, person=cast.users[LS],
                                         completed_on=dt.date(2026, 1, 1)).pk


def _affiliation_a(c: Any) -> Any:
    """A valid affiliation of Alpha University (organisation A), not yet in ORCID."""
    from consortium_hub.core.testing.factories import valid_ror
    from consortium_hub.registry.models import Affiliation
    from consortium_hub.registry.validation import clean_affiliation, content_key

    fields = clean_affiliation({"email": "res@alpha.example", "section": "employment", "org_name": "Alpha University",
                                "org_country": "GB", "org_city": "London", "role_title": "Lecturer",
                                "disambiguated_organization_identifier": f"https://ror.org/{valid_ror(1)}",
                                "disambiguation_source": "ROR"})
    found = Affiliation.objects.filter(organisation=c.org_a, content_key=content_key(fields)).first()
    return found or Affiliation.objects.create(organisation=c.org_a, content_key=content_key(fields),
                                               status=Affiliation.Status.NOTIFICATION_SENT, **fields)


def _registry_a(c: Any, kind: str) -> Any:
    """One registry object of consortium A (organisation A where it has one), made directly."""
    import datetime as dt

    from django.utils import timezone

    from consortium_hub.registry import models as m

    make = {
        "upload": lambda: m.AffiliationUpload.objects.create(organisation=c.org_a, filename="matrix.csv"),
        "grant": lambda: m.OrcidGrant.objects.create(organisation=c.org_a, email="res@alpha.example",
                                                     orcid_id="0000-0002-1825-0097", status="granted",
                                                     access_token="secret-access", granted_at=timezone.now()),
        "link": lambda: m.PermissionLink.objects.create(organisation=c.org_a, email="res@alpha.example",
                                                        token_hash="matrix-nonce", status="failed",
                                                        expires_at=timezone.now() + dt.timedelta(days=30)),
        "call": lambda: m.OrcidApiCall.objects.create(consortium=c.consortium_a, organisation=c.org_a, method="POST",
                                                      path="/v3.0/0000-0002-1825-0097/employment", status_code=201),
        "snapshot": lambda: m.AdoptionSnapshot.objects.create(organisation=c.org_a, taken_on=dt.date(2026, 11, 1),
                                                              identifier_type="ror", identifier="https://ror.org/x",
                                                              records_total=120, records_from_hub=40),
        "client": lambda: m.RegistryClient.objects.create(consortium=c.consortium_a, client_id="APP-MATRIX",
                                                          client_secret="matrix-secret"),
    }
    return make[kind]()


def _route_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _route_names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_route_has_an_expectation():
    known = {name for name, *_ in ROUTES}
    missing = sorted(n for n in _route_names(get_resolver())
                     if not n.startswith(EXCLUDED_PREFIXES) and n not in known)
    assert not missing, f"Routes without an authorisation expectation: {missing}"


def test_admin_site_is_for_orcid_admins_only(cast, client_for):
    for name in CAST_NAMES:
        response = client_for(cast.users[name]).get(reverse("admin:index"))
        assert response.status_code == (200 if name == ADMIN else 302), name


@pytest.mark.parametrize("who", CAST_NAMES)
@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]}:{r[1]}" for r in ROUTES])
def test_route(route: Route, who: str, cast, client_for, api_for):
    name, method, kwargs, expected = route
    url = reverse(name, kwargs=kwargs(cast))
    user = cast.users[who]
    if name.startswith("api:"):
        client = api_for(user)
        body = PATCH_BODIES.get(name, {}) if method == "patch" else {}
        response = getattr(client, method)(url, body, format="json")
    else:
        response = getattr(client_for(user), method)(url)
    assert response.status_code == expected[who], (
        f"{who} {method.upper()} {name}: expected {expected[who]}, got {response.status_code}")
