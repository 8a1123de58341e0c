"""Permission links, the ORCID consent flow, and what the email's outcome does to the rows.

Most tests replace the ORCID client with a recording fake; `test_consent_flow_against_the_emulator_*`
go through the real client and the bundled ORCID emulator over HTTP.
"""

from __future__ import annotations

import re
import uuid
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied
from django.urls import include, path
from django.utils import timezone, translation

from consortium_hub.core.email import deliver_email, email_delivered
from consortium_hub.core.models_email import EmailLog
from consortium_hub.core.testing import factories as f
from consortium_hub.registry.client import ErrorKind, OrcidApiError, TokenGrant
from consortium_hub.registry.models import Affiliation, OrcidApiCall, OrcidGrant, PermissionLink, RegistryClient
from consortium_hub.registry.services import permissions as services
from consortium_hub.registry.views import permission as views
from orcid_emulator import Client, EmulatorServer
from orcid_emulator.testing import submit_consent

# The permission pages on their own (and the home page the base template links to), so these tests do
# not depend on the rest of the registry's pages.
urlpatterns = [
    path("", include("consortium_hub.core.urls")),
    path("", include(([
        path("orcid/permission/callback/", views.permission_callback, name="permission_callback"),
        path("orcid/permission/<str:token>/", views.permission_start, name="permission_start"),
    ], "registry"))),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Status = Affiliation.Status
EMAIL = "ada@alpha.example"
ORCID_ID = f.valid_orcid(7)
OTHER_ORCID_ID = f.valid_orcid(8)
CALLBACK = "http://testserver/orcid/permission/callback/"


def row(organisation, email=EMAIL, *, status=Status.PENDING, **fields):
    values = {"section": "employment", "org_name": "Alpha University", "org_country": "GB", "org_city": "London",
              "disambiguated_organization_identifier": "https://ror.org/02mhbdp94", "disambiguation_source": "ROR",
              "role_title": "Lecturer", "department_name": "Physics", "start_date": "2020-09",
              "content_key": uuid.uuid4().hex, **fields}
    return Affiliation.objects.create(organisation=organisation, email=email, status=status, **values)


class FakeClient:
    """Stands in for OrcidClient: records the codes it redeems and answers like ORCID's token endpoint."""

    client_id = "APP-FAKE-MEMBER"

    def __init__(self, orcid=ORCID_ID, error=None):
        self.orcid, self.error, self.exchanged = orcid, error, []

    def exchange_code(self, code, redirect_uri):
        self.exchanged.append((code, redirect_uri))
        if self.error:
            raise self.error
        return TokenGrant(access_token=f"access-{code}", refresh_token=f"refresh-{code}", orcid=self.orcid,
                          name="Ada Lovelace", scope="/read-limited /activities/update", expires_in=631138518)


@pytest.fixture
def orcid_client():
    fake = FakeClient()
    with mock.patch.object(services, "client_for_organisation", return_value=fake):
        yield fake


@pytest.fixture
def schedule_writes():
    with mock.patch.object(services, "schedule_writes") as scheduled:
        yield scheduled


def ask(cast, capture, *, email=EMAIL, language="en", organisation=None, send=True):
    with capture(execute=send):
        return services.request_permission(organisation=organisation or cast.org_a, email=email, language=language,
                                           created_by=cast["member_contact_a"])


def token_from_mail(message):
    return re.search(r"http://testserver/orcid/permission/([^/\s]+)/", message.body).group(1)


# --- Asking ----------------------------------------------------------------------------------------------

def test_asking_mails_a_link_and_marks_the_rows(cast, django_capture_on_commit_callbacks):
    waiting = row(cast.org_a)
    elsewhere = row(cast.org_a, "someone.else@alpha.example")
    written = row(cast.org_a, status=Status.IN_ORCID, put_code="12", orcid_id=ORCID_ID)

    with django_capture_on_commit_callbacks() as callbacks:
        link = services.request_permission(organisation=cast.org_a, email=" Ada@Alpha.example ", language="en",
                                           created_by=cast["member_contact_a"])
        assert mail.outbox == []  # nothing leaves before the commit
        waiting.refresh_from_db()
        assert waiting.status == Status.NOTIFICATION_REQUESTED
    for callback in callbacks:
        callback()

    assert link.email == EMAIL and link.created_by == cast["member_contact_a"]
    assert link.expires_at > timezone.now() + timezone.timedelta(days=29)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert "Alpha University" in message.subject
    assert "Employment: Alpha University, Physics (Lecturer), 2020-09" in message.body
    assert "optional" in message.body and "expires on" in message.body
    token = token_from_mail(message)
    assert services.resolve_link(token) == link
    assert services.link_url(link) == f"http://testserver/orcid/permission/{token}/"
    # The email's outcome reached the link and the rows.
    link.refresh_from_db()
    assert link.email_log.status == EmailLog.Status.SENT and link.status == PermissionLink.Status.SENT
    assert Affiliation.objects.get(pk=waiting.pk).status == Status.NOTIFICATION_SENT
    assert Affiliation.objects.get(pk=elsewhere.pk).status == Status.PENDING
    assert Affiliation.objects.get(pk=written.pk).status == Status.IN_ORCID


def test_asking_again_returns_the_live_link_without_mailing_again(cast, django_capture_on_commit_callbacks):
    row(cast.org_a)
    first = ask(cast, django_capture_on_commit_callbacks)
    later_row = row(cast.org_a)  # a second upload for the same researcher

    second = ask(cast, django_capture_on_commit_callbacks, email=EMAIL.upper())

    assert second == first and len(mail.outbox) == 1
    assert PermissionLink.objects.count() == 1
    # The new row shows where the request stands: the email has gone already.
    assert Affiliation.objects.get(pk=later_row.pk).status == Status.NOTIFICATION_SENT


def test_a_failed_or_expired_link_is_replaced_by_a_new_email(cast, django_capture_on_commit_callbacks):
    row(cast.org_a)
    failed = ask(cast, django_capture_on_commit_callbacks)
    PermissionLink.objects.filter(pk=failed.pk).update(status=PermissionLink.Status.FAILED)

    fresh = ask(cast, django_capture_on_commit_callbacks)
    assert fresh != failed and len(mail.outbox) == 2

    PermissionLink.objects.filter(pk=fresh.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    third = ask(cast, django_capture_on_commit_callbacks)
    assert third not in (failed, fresh) and len(mail.outbox) == 3


def test_only_people_with_the_affiliations_grant_of_that_member_may_ask(cast):
    with pytest.raises(PermissionDenied):
        services.request_permission(organisation=cast.org_a, email=EMAIL, language="en",
                                    created_by=cast["lead_admin_b"])
    with pytest.raises(PermissionDenied):
        services.request_permission(organisation=cast.org_a2, email=EMAIL, language="en",
                                    created_by=cast["member_contact_a"])
    assert not PermissionLink.objects.exists()


def test_the_email_is_written_in_the_chosen_language(cast, django_capture_on_commit_callbacks):
    row(cast.org_a)
    seen = []
    real_send = services.send_templated_email

    def spy(**kwargs):
        seen.append(translation.get_language())
        return real_send(**kwargs)

    with mock.patch.object(services, "send_templated_email", side_effect=spy):
        link = ask(cast, django_capture_on_commit_callbacks, language="zh_CN")
    assert seen == ["zh-hans"] and link.language == "zh_CN"
    assert translation.get_language() != "zh-hans"


def test_a_failed_email_marks_the_link_and_rows_failed_and_a_later_success_corrects_it(
        cast, django_capture_on_commit_callbacks, settings):
    waiting = row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks, send=False)

    settings.EMAIL_BACKEND = "consortium_hub.registry.tests.test_permissions.RefusingBackend"
    with pytest.raises(ConnectionRefusedError):
        deliver_email.call_local(link.email_log_id, [EMAIL], "subject", "body", "", [], [])
    link.refresh_from_db()
    waiting.refresh_from_db()
    assert (link.status, waiting.status) == (PermissionLink.Status.FAILED, Status.NOTIFICATION_FAILED)
    assert EmailLog.objects.get(pk=link.email_log_id).status == EmailLog.Status.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    deliver_email.call_local(link.email_log_id, [EMAIL], "subject", "body", "", [], [])
    link.refresh_from_db()
    waiting.refresh_from_db()
    assert (link.status, waiting.status) == (PermissionLink.Status.SENT, Status.NOTIFICATION_SENT)


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server refused")


def test_an_email_outcome_never_reopens_a_used_link(cast, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks, send=False)
    PermissionLink.objects.filter(pk=link.pk).update(status=PermissionLink.Status.USED, used_at=timezone.now())
    email_delivered.send(sender=EmailLog, log_id=link.email_log_id, status=EmailLog.Status.FAILED)
    assert PermissionLink.objects.get(pk=link.pk).status == PermissionLink.Status.USED


# --- Tokens ----------------------------------------------------------------------------------------------

def test_the_database_alone_never_yields_a_usable_link(cast, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks)
    token = token_from_mail(mail.outbox[0])
    nonce, mac = token.split(".")

    assert link.token_hash == nonce and mac not in link.token_hash
    for guess in (link.token_hash, f"{nonce}.", f"{nonce}.{mac[:-1]}x", f"x{nonce}.{mac}", ""):
        with pytest.raises(services.UnknownLink):
            services.resolve_link(guess)
    # The export can show the same link again, without storing it.
    assert services.link_url(PermissionLink.objects.get(pk=link.pk)).endswith(f"/{token}/")


def test_links_survive_a_secret_key_rotation_only_while_the_old_key_is_a_fallback(
        cast, django_capture_on_commit_callbacks, settings):
    link = ask(cast, django_capture_on_commit_callbacks)
    token = token_from_mail(mail.outbox[0])
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert services.resolve_link(token) == link
    assert services.resolve_link(services.link_token(link)) == link  # the export's link under the new key

    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(services.UnknownLink):
        services.resolve_link(token)


def test_expired_and_used_links_are_refused(cast, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks)
    token = services.link_token(link)
    PermissionLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    with pytest.raises(services.ExpiredLink):
        services.resolve_link(token)
    PermissionLink.objects.filter(pk=link.pk).update(used_at=timezone.now(), status=PermissionLink.Status.USED)
    with pytest.raises(services.UsedLink):
        services.resolve_link(token)


# --- ORCID's consent page --------------------------------------------------------------------------------

def test_authorize_url_asks_orcid_for_our_scopes_in_the_researchers_language(
        cast, django_capture_on_commit_callbacks, settings):
    settings.ORCID_BASE_URL = "https://sandbox.orcid.org"
    settings.ORCID_MEMBER_CLIENT_ID = "APP-HUB"
    link = ask(cast, django_capture_on_commit_callbacks)

    url = services.authorize_url(link=link, redirect_uri=CALLBACK, language="fr")

    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://sandbox.orcid.org/oauth/authorize"
    assert query["client_id"] == "APP-HUB"
    assert query["response_type"] == "code"
    assert query["scope"] == "/read-limited /activities/update"
    assert query["redirect_uri"] == CALLBACK
    assert query["lang"] == "fr" and query["email"] == EMAIL
    assert services.read_state(query["state"]) == (link.pk, "fr")

    # A consortium with its own member API credentials is asked for under its own client id.
    RegistryClient.objects.create(consortium=cast.consortium_a, client_id="APP-CONSORTIUM-A", client_secret="s")
    query = parse_qs(urlsplit(services.authorize_url(link=link, redirect_uri=CALLBACK, language="xx")).query)
    assert query["client_id"] == ["APP-CONSORTIUM-A"] and query["lang"] == ["en"]


def test_a_state_not_signed_here_or_too_old_is_refused(cast, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks)
    state = services.sign_state(link=link, language="de")
    assert services.read_state(state) == (link.pk, "de")
    forged = signing.dumps({"link": link.pk, "lang": "de"}, salt="another-salt")
    for bad in (forged, state[:-2] + "xx", "", "nonsense"):
        with pytest.raises(services.InvalidState):
            services.read_state(bad)
    later = timezone.now().timestamp() + services.STATE_MAX_AGE_SECONDS + 5
    with mock.patch("django.core.signing.time.time", return_value=later), pytest.raises(services.InvalidState):
        services.read_state(state)


# --- The researcher's answer ----------------------------------------------------------------------------

def test_granting_stores_the_grant_and_releases_the_rows_to_the_writer(
        cast, django_capture_on_commit_callbacks, orcid_client, schedule_writes):
    asked = row(cast.org_a)
    # Written under an earlier grant the researcher revoked: the item is still on the same record.
    revoked_same = row(cast.org_a, status=Status.USER_REVOKED_ACCESS, put_code="1001", orcid_id=ORCID_ID)
    # Written to another record: that put-code means nothing on the record now granted.
    revoked_other = row(cast.org_a, status=Status.USER_REVOKED_ACCESS, put_code="1002", orcid_id=OTHER_ORCID_ID)
    in_orcid = row(cast.org_a, status=Status.IN_ORCID, put_code="1003", orcid_id=ORCID_ID)
    other_person = row(cast.org_a, "bob@alpha.example")
    link = ask(cast, django_capture_on_commit_callbacks)

    grant = services.complete_grant(link=link, code="CODE1", redirect_uri=CALLBACK)

    assert orcid_client.exchanged == [("CODE1", CALLBACK)]
    grant = OrcidGrant.objects.get(pk=grant.pk)
    assert (grant.organisation, grant.email, grant.status) == (cast.org_a, EMAIL, OrcidGrant.Status.GRANTED)
    assert (grant.orcid_id, grant.access_token, grant.refresh_token) == (ORCID_ID, "access-CODE1", "refresh-CODE1")
    assert grant.client_id == "APP-FAKE-MEMBER" and grant.scope == "/read-limited /activities/update"
    assert grant.granted_at is not None
    states = {r.pk: (r.status, r.put_code, r.orcid_id) for r in Affiliation.objects.all()}
    assert states[asked.pk] == (Status.PENDING, "", ORCID_ID)
    assert states[revoked_same.pk] == (Status.PENDING_UPDATE, "1001", ORCID_ID)
    assert states[revoked_other.pk] == (Status.PENDING, "", ORCID_ID)
    assert states[in_orcid.pk] == (Status.IN_ORCID, "1003", ORCID_ID)
    assert states[other_person.pk][0] == Status.PENDING and states[other_person.pk][2] == ""
    link.refresh_from_db()
    assert link.status == PermissionLink.Status.USED and link.used_at is not None
    schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)


def test_a_link_works_once_even_when_clicked_twice(cast, django_capture_on_commit_callbacks, orcid_client,
                                                    schedule_writes):
    link = ask(cast, django_capture_on_commit_callbacks)
    services.complete_grant(link=link, code="FIRST", redirect_uri=CALLBACK)
    with pytest.raises(services.UsedLink):
        services.complete_grant(link=link, code="SECOND", redirect_uri=CALLBACK)
    with pytest.raises(services.UsedLink):
        services.deny_grant(link=link)
    assert [code for code, _uri in orcid_client.exchanged] == ["FIRST"]
    assert OrcidGrant.objects.get().access_token == "access-FIRST"


def test_a_failed_exchange_writes_nothing_and_leaves_the_link_usable(cast, django_capture_on_commit_callbacks,
                                                                      schedule_writes):
    waiting = row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    failing = FakeClient(error=OrcidApiError(ErrorKind.INVALID, status=400, error_code="invalid_grant"))
    with mock.patch.object(services, "client_for_organisation", return_value=failing), \
            pytest.raises(OrcidApiError):
        services.complete_grant(link=link, code="STALE", redirect_uri=CALLBACK)

    assert not OrcidGrant.objects.exists()
    assert Affiliation.objects.get(pk=waiting.pk).status == Status.NOTIFICATION_SENT
    assert services.resolve_link(services.link_token(link)) == link
    schedule_writes.assert_not_called()


def test_declining_records_the_refusal(cast, django_capture_on_commit_callbacks):
    asked = row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)

    services.deny_grant(link=link)

    grant = OrcidGrant.objects.get(organisation=cast.org_a, email=EMAIL)
    assert grant.status == OrcidGrant.Status.DENIED and grant.access_token == ""
    assert Affiliation.objects.get(pk=asked.pk).status == Status.USER_DENIED_ACCESS
    assert PermissionLink.objects.get(pk=link.pk).status == PermissionLink.Status.USED


def test_a_researcher_who_revoked_can_grant_again_through_a_fresh_link(
        cast, django_capture_on_commit_callbacks, orcid_client, schedule_writes):
    written = row(cast.org_a)
    first = ask(cast, django_capture_on_commit_callbacks)
    services.complete_grant(link=first, code="ONE", redirect_uri=CALLBACK)
    # The writer put it on the record, then the researcher revoked the hub's access on ORCID.
    Affiliation.objects.filter(pk=written.pk).update(status=Status.USER_REVOKED_ACCESS, put_code="555")
    OrcidGrant.objects.filter(email=EMAIL).update(status=OrcidGrant.Status.REVOKED, revoked_at=timezone.now())

    second = ask(cast, django_capture_on_commit_callbacks)
    assert second != first and len(mail.outbox) == 2
    assert Affiliation.objects.get(pk=written.pk).status == Status.NOTIFICATION_SENT

    services.complete_grant(link=second, code="TWO", redirect_uri=CALLBACK)
    grant = OrcidGrant.objects.get(email=EMAIL)
    assert (grant.status, grant.access_token, grant.revoked_at) == (OrcidGrant.Status.GRANTED, "access-TWO", None)
    assert Affiliation.objects.get(pk=written.pk).status == Status.PENDING_UPDATE


# --- Pages -----------------------------------------------------------------------------------------------

def test_start_page_shows_who_asks_and_what_and_nothing_of_other_people(cast, client,
                                                                        django_capture_on_commit_callbacks):
    row(cast.org_a, role_title="Lecturer")
    row(cast.org_a, "bob@alpha.example", role_title="Secret Professorship")
    link = ask(cast, django_capture_on_commit_callbacks)

    response = client.get(f"/orcid/permission/{services.link_token(link)}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha University" in body and "Lecturer" in body and "Physics" in body
    assert "Secret Professorship" not in body and "bob@alpha.example" not in body
    assert 'name="language"' in body and "Connect your ORCID iD" in body
    assert response["Referrer-Policy"] == "same-origin" and "noindex" in response["X-Robots-Tag"]


def test_start_page_follows_the_chosen_language(cast, client, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks, language="es")
    path_ = f"/orcid/permission/{services.link_token(link)}/"
    assert '<html lang="es">' in client.get(path_).content.decode()
    assert '<html lang="de">' in client.get(path_ + "?language=de").content.decode()
    assert '<html lang="es">' in client.get(path_ + "?language=klingon").content.decode()


def test_connecting_sends_the_researcher_to_orcid(cast, client, django_capture_on_commit_callbacks, settings):
    settings.ORCID_BASE_URL = "https://orcid.example"
    link = ask(cast, django_capture_on_commit_callbacks)

    response = client.post(f"/orcid/permission/{services.link_token(link)}/", {"language": "pt"})

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert target.netloc == "orcid.example" and target.path == "/oauth/authorize"
    assert query["lang"] == ["pt"] and query["redirect_uri"] == [CALLBACK]
    assert services.read_state(query["state"][0]) == (link.pk, "pt")


def test_unknown_expired_and_used_links_get_a_clear_page(cast, client, django_capture_on_commit_callbacks):
    link = ask(cast, django_capture_on_commit_callbacks)
    token = services.link_token(link)

    unknown = client.get("/orcid/permission/nope.nope/")
    assert unknown.status_code == 404 and "not valid" in unknown.content.decode()
    PermissionLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    expired = client.get(f"/orcid/permission/{token}/")
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert client.post(f"/orcid/permission/{token}/", {"language": "en"}).status_code == 410
    PermissionLink.objects.filter(pk=link.pk).update(used_at=timezone.now(), status=PermissionLink.Status.USED)
    used = client.get(f"/orcid/permission/{token}/")
    assert used.status_code == 410 and "already been used" in used.content.decode()


def _callback(client, link, language="en", **params):
    return client.get("/orcid/permission/callback/",
                      {"state": services.sign_state(link=link, language=language), **params})


def test_callback_with_a_code_thanks_the_researcher(cast, client, django_capture_on_commit_callbacks,
                                                    orcid_client, schedule_writes):
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)

    response = _callback(client, link, language="it", code="GOOD")

    assert response.status_code == 200
    body = response.content.decode()
    assert ORCID_ID in body and '<html lang="it">' in body
    assert OrcidGrant.objects.get().status == OrcidGrant.Status.GRANTED
    assert orcid_client.exchanged == [("GOOD", CALLBACK)]
    # Reloading the thank-you page does not redeem the code again.
    assert _callback(client, link, code="GOOD").status_code == 410
    assert len(orcid_client.exchanged) == 1


def test_callback_with_access_denied_records_the_refusal(cast, client, django_capture_on_commit_callbacks):
    asked = row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)

    response = _callback(client, link, error="access_denied", error_description="User denied access")

    assert response.status_code == 200 and "You declined" in response.content.decode()
    assert Affiliation.objects.get(pk=asked.pk).status == Status.USER_DENIED_ACCESS


def test_callback_problems_show_a_clear_page_and_write_nothing(cast, client, django_capture_on_commit_callbacks,
                                                               schedule_writes):
    asked = row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)

    forged = client.get("/orcid/permission/callback/", {"state": "forged", "code": "X"})
    assert forged.status_code == 400
    other_error = _callback(client, link, error="invalid_scope", error_description="Invalid scope: /x")
    assert other_error.status_code == 400 and "Invalid scope: /x" in other_error.content.decode()
    failing = FakeClient(error=OrcidApiError(ErrorKind.UNAVAILABLE, developer_message="down"))
    with mock.patch.object(services, "client_for_organisation", return_value=failing):
        unavailable = _callback(client, link, code="X")
    assert unavailable.status_code == 502
    assert services.link_token(link) in unavailable.content.decode()  # "Try again" goes back to the link

    assert not OrcidGrant.objects.exists()
    assert Affiliation.objects.get(pk=asked.pk).status == Status.NOTIFICATION_SENT
    assert services.resolve_link(services.link_token(link)) == link


# --- Against the ORCID emulator, through the real client -------------------------------------------------

@pytest.fixture
def emulator(settings):
    with EmulatorServer(clients=[Client("APP-MEMBER", "member-secret", redirect_uris=[CALLBACK],
                                        name="Consortium Hub")]) as server:
        settings.ORCID_BASE_URL = server.base_url
        settings.ORCID_MEMBER_CLIENT_ID = "APP-MEMBER"
        settings.ORCID_MEMBER_CLIENT_SECRET = "member-secret"
        yield server


def _through_orcid(client, token, **consent):
    start = client.post(f"/orcid/permission/{token}/", {"language": "fr"})
    assert start.status_code == 302 and start["Location"].startswith("http://127.0.0.1"), start
    assert parse_qs(urlsplit(start["Location"]).query)["lang"] == ["fr"]
    callback = urlsplit(submit_consent(start["Location"], **consent))
    assert callback.path == "/orcid/permission/callback/"
    return client.get(callback.path + "?" + callback.query)


def test_consent_flow_against_the_emulator_grants_a_working_token(cast, client, emulator,
                                                                 django_capture_on_commit_callbacks,
                                                                 schedule_writes):
    record = emulator.state.add_record("Ada", "Lovelace", EMAIL)
    asked = row(cast.org_a)
    ask(cast, django_capture_on_commit_callbacks)
    token = token_from_mail(mail.outbox[0])

    response = _through_orcid(client, token, orcid=record.orcid)

    assert response.status_code == 200, response.content.decode()[:500]
    grant = OrcidGrant.objects.get(organisation=cast.org_a, email=EMAIL)
    assert (grant.status, grant.orcid_id, grant.client_id) == (OrcidGrant.Status.GRANTED, record.orcid, "APP-MEMBER")
    issued = emulator.state.active_token(grant.access_token)
    assert issued is not None and issued.orcid == record.orcid
    assert set(grant.scope.split()) == {"/read-limited", "/activities/update"}
    assert Affiliation.objects.get(pk=asked.pk).status == Status.PENDING
    assert Affiliation.objects.get(pk=asked.pk).orcid_id == record.orcid
    schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)
    # The link is spent: opening it again says so.
    assert client.get(f"/orcid/permission/{token}/").status_code == 410


def test_consent_flow_against_the_emulator_records_a_refusal(cast, client, emulator,
                                                            django_capture_on_commit_callbacks):
    record = emulator.state.add_record("Dan", "Declines", EMAIL)
    asked = row(cast.org_a)
    ask(cast, django_capture_on_commit_callbacks)

    response = _through_orcid(client, token_from_mail(mail.outbox[0]), orcid=record.orcid, action="deny")

    assert response.status_code == 200 and "You declined" in response.content.decode()
    assert OrcidGrant.objects.get(email=EMAIL).status == OrcidGrant.Status.DENIED
    assert Affiliation.objects.get(pk=asked.pk).status == Status.USER_DENIED_ACCESS
    assert emulator.state.tokens(record.orcid) == []


def test_a_replayed_code_is_refused_by_orcid_and_changes_nothing(cast, client, emulator,
                                                                django_capture_on_commit_callbacks,
                                                                schedule_writes):
    record = emulator.state.add_record("Eve", "Replay", EMAIL)
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    start = client.post(f"/orcid/permission/{services.link_token(link)}/", {"language": "en"})
    query = parse_qs(urlsplit(submit_consent(start["Location"], orcid=record.orcid)).query)
    code = query["code"][0]
    # The code is redeemed once elsewhere (e.g. a leaked URL); ORCID refuses it the second time.
    emulator.state.exchange_code(code, client_id="APP-MEMBER", redirect_uri=CALLBACK, code_verifier=None)

    response = client.get("/orcid/permission/callback/", {"state": query["state"][0], "code": code})

    assert response.status_code == 502
    assert not OrcidGrant.objects.exists()
    assert services.resolve_link(services.link_token(link)) == link
    # The refused exchange is in the call log like every other call to ORCID.
    assert list(OrcidApiCall.objects.values_list("organisation_id", "method", "path", "status_code")) == [
        (cast.org_a.pk, "POST", "/oauth/token", 400)]


# --- The call log and single use while ORCID answers ----------------------------------------------------

class LoggingFailingClient(FakeClient):
    """Logs its call the way OrcidClient does (a row per call, written as it happens), then fails."""

    def exchange_code(self, code, redirect_uri):
        self.exchanged.append((code, redirect_uri))
        OrcidApiCall.objects.create(organisation_id=self.organisation_id, method="POST", path="/oauth/token",
                                    status_code=400, error_code="invalid_grant")
        raise OrcidApiError(ErrorKind.INVALID, status=400, error_code="invalid_grant")


def test_a_failed_exchange_stays_in_the_call_log(cast, django_capture_on_commit_callbacks, schedule_writes):
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    failing = LoggingFailingClient()
    failing.organisation_id = cast.org_a.pk
    with mock.patch.object(services, "client_for_organisation", return_value=failing), \
            pytest.raises(OrcidApiError):
        services.complete_grant(link=link, code="STALE", redirect_uri=CALLBACK)

    assert OrcidApiCall.objects.filter(organisation=cast.org_a, path="/oauth/token", status_code=400).count() == 1
    # The link is free again for the researcher's next try.
    assert PermissionLink.objects.get(pk=link.pk).used_at is None
    assert services.resolve_link(services.link_token(link)) == link


def test_a_second_click_while_orcid_answers_the_first_finds_the_link_in_use(
        cast, django_capture_on_commit_callbacks, schedule_writes):
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    token = services.link_token(link)
    meanwhile = []

    class SlowOrcid(FakeClient):
        def exchange_code(self, code, redirect_uri):
            if not meanwhile:
                # The double submit arrives while ORCID is still answering the first request.
                for name, attempt in (
                        ("grant", lambda: services.complete_grant(link=link, code="SECOND", redirect_uri=CALLBACK)),
                        ("deny", lambda: services.deny_grant(link=link)),
                        ("open", lambda: services.resolve_link(token))):
                    try:
                        attempt()
                        meanwhile.append((name, "went through"))
                    except services.PermissionLinkError as problem:
                        meanwhile.append((name, type(problem).__name__))
            return super().exchange_code(code, redirect_uri)

    slow = SlowOrcid()
    with mock.patch.object(services, "client_for_organisation", return_value=slow):
        grant = services.complete_grant(link=link, code="FIRST", redirect_uri=CALLBACK)

    assert meanwhile == [("grant", "UsedLink"), ("deny", "UsedLink"), ("open", "UsedLink")]
    assert [code for code, _uri in slow.exchanged] == ["FIRST"]
    assert OrcidGrant.objects.get().access_token == "access-FIRST" and grant.status == OrcidGrant.Status.GRANTED
    assert PermissionLink.objects.get(pk=link.pk).status == PermissionLink.Status.USED


def test_a_claim_left_by_a_request_that_died_frees_the_link_after_a_while(
        cast, django_capture_on_commit_callbacks, orcid_client, schedule_writes):
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    token = services.link_token(link)
    PermissionLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
    with pytest.raises(services.UsedLink):
        services.resolve_link(token)

    long_ago = timezone.now() - timezone.timedelta(seconds=services.CLAIM_SECONDS + 1)
    PermissionLink.objects.filter(pk=link.pk).update(used_at=long_ago)
    assert services.resolve_link(token) == link
    services.complete_grant(link=link, code="AGAIN", redirect_uri=CALLBACK)
    assert OrcidGrant.objects.get().access_token == "access-AGAIN"


def test_a_failed_store_after_the_exchange_frees_the_link(cast, django_capture_on_commit_callbacks, schedule_writes):
    row(cast.org_a)
    link = ask(cast, django_capture_on_commit_callbacks)
    nameless = FakeClient(orcid="")
    with mock.patch.object(services, "client_for_organisation", return_value=nameless), \
            pytest.raises(OrcidApiError):
        services.complete_grant(link=link, code="X", redirect_uri=CALLBACK)
    assert not OrcidGrant.objects.exists()
    assert services.resolve_link(services.link_token(link)) == link


# --- A researcher who already granted access ------------------------------------------------------------

def _granted(organisation, email=EMAIL, orcid_id=ORCID_ID):
    return OrcidGrant.objects.create(organisation=organisation, email=email, status=OrcidGrant.Status.GRANTED,
                                     orcid_id=orcid_id, access_token="working-token", refresh_token="working-refresh",
                                     granted_at=timezone.now())


def test_asking_someone_who_granted_access_sends_nothing_and_hands_their_rows_to_the_writer(
        cast, django_capture_on_commit_callbacks, schedule_writes):
    # Asked about before the grant was stored (e.g. an upload racing the researcher's consent).
    failed = row(cast.org_a, status=Status.NOTIFICATION_FAILED)
    queued = row(cast.org_a, status=Status.PENDING)
    _granted(cast.org_a)

    assert ask(cast, django_capture_on_commit_callbacks) is None

    assert mail.outbox == [] and not PermissionLink.objects.exists()
    assert (Affiliation.objects.get(pk=failed.pk).status, Affiliation.objects.get(pk=failed.pk).orcid_id) == (
        Status.PENDING, ORCID_ID)
    assert Affiliation.objects.get(pk=queued.pk).status == Status.PENDING
    schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)
    grant = OrcidGrant.objects.get()
    assert (grant.status, grant.access_token) == (OrcidGrant.Status.GRANTED, "working-token")


def test_declining_through_an_old_link_keeps_a_working_grant(cast, django_capture_on_commit_callbacks,
                                                             orcid_client, schedule_writes):
    written = row(cast.org_a)
    old = ask(cast, django_capture_on_commit_callbacks)
    # Its email failed; the member forwarded it by hand later, and a fresh link went out meanwhile.
    PermissionLink.objects.filter(pk=old.pk).update(status=PermissionLink.Status.FAILED)
    fresh = ask(cast, django_capture_on_commit_callbacks)
    services.complete_grant(link=fresh, code="GOOD", redirect_uri=CALLBACK)
    # A row asked about again before the grant reached it: it must not wait for an answer that never comes.
    late = row(cast.org_a, status=Status.NOTIFICATION_SENT)
    schedule_writes.reset_mock()

    services.deny_grant(link=old)

    grant = OrcidGrant.objects.get()
    assert (grant.status, grant.access_token, grant.refresh_token) == (
        OrcidGrant.Status.GRANTED, "access-GOOD", "refresh-GOOD")
    assert Affiliation.objects.get(pk=written.pk).status == Status.PENDING
    assert (Affiliation.objects.get(pk=late.pk).status, Affiliation.objects.get(pk=late.pk).orcid_id) == (
        Status.PENDING, ORCID_ID)
    assert PermissionLink.objects.get(pk=old.pk).status == PermissionLink.Status.USED
    schedule_writes.assert_called_once_with(organisation_id=cast.org_a.pk)


def test_a_row_the_member_asked_to_delete_stays_pending_delete_when_access_comes_back(
        cast, django_capture_on_commit_callbacks, orcid_client, schedule_writes):
    waiting = row(cast.org_a, status=Status.USER_REVOKED_ACCESS, put_code="2001", orcid_id=ORCID_ID)
    # Deleted by the member while the hub had no access: it waits for a grant to be deleted from the record.
    to_delete = row(cast.org_a, status=Status.PENDING_DELETE, put_code="2002", orcid_id=ORCID_ID, attempts=4,
                    next_attempt_at=timezone.now() + timezone.timedelta(hours=6), orcid_error="no access")
    elsewhere = row(cast.org_a, status=Status.PENDING_DELETE, put_code="2003", orcid_id=OTHER_ORCID_ID)
    OrcidGrant.objects.create(organisation=cast.org_a, email=EMAIL, status=OrcidGrant.Status.REVOKED,
                              orcid_id=ORCID_ID)
    link = ask(cast, django_capture_on_commit_callbacks)

    services.complete_grant(link=link, code="BACK", redirect_uri=CALLBACK)

    states = {r.pk: (r.status, r.put_code, r.orcid_id, r.attempts, r.next_attempt_at)
              for r in Affiliation.objects.all()}
    assert states[waiting.pk] == (Status.PENDING_UPDATE, "2001", ORCID_ID, 0, None)
    # Deleted as soon as the writer comes round, under the new grant.
    assert states[to_delete.pk] == (Status.PENDING_DELETE, "2002", ORCID_ID, 0, None)
    # Its put-code belongs to another record, which this grant cannot touch.
    assert states[elsewhere.pk][:3] == (Status.PENDING_DELETE, "2003", OTHER_ORCID_ID)


@pytest.mark.urls("consortium_hub.urls")
def test_sending_a_new_link_to_someone_who_granted_access_sends_none(cast, client_for,
                                                                     django_capture_on_commit_callbacks):
    failed = PermissionLink.objects.create(organisation=cast.org_a, email=EMAIL, token_hash="old-nonce",
                                           status=PermissionLink.Status.FAILED,
                                           expires_at=timezone.now() + timezone.timedelta(days=3))
    _granted(cast.org_a)
    client = client_for(cast["member_contact_a"])

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/registry/permission-links/{failed.pk}/resend/", follow=True)

    assert done.status_code == 200
    assert "already granted" in done.content.decode()
    assert mail.outbox == [] and list(PermissionLink.objects.all()) == [failed]
