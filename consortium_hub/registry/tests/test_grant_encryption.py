"""Researchers' tokens and consortia's client secrets are ciphertext in the database, plaintext in Python,
and never in the change log."""

import json

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from consortium_hub.audit.models import ChangeRecord
from consortium_hub.core import crypto
from consortium_hub.core.testing import factories as f
from consortium_hub.registry.models import OrcidGrant, RegistryClient

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
ACCESS = "access-7c1e2b1a-4f6d-4d52-9a59-0c2f8e9d1a11"
REFRESH = "refresh-0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
SECRET = "client-secret-3f2e1d0c-b9a8-4765-8432-10fedcba9876"


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]


def _grant(**fields):
    organisation = f.OrganisationFactory()
    return OrcidGrant.objects.create(organisation=organisation, email="ada@uni.example", orcid_id=f.valid_orcid(1),
                                     status=OrcidGrant.Status.GRANTED, access_token=ACCESS, refresh_token=REFRESH,
                                     scope="/read-limited /activities/update", client_id="APP-1", **fields)


def _raw(model, pk, *columns):
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names quoted above
        return cursor.fetchone()


def test_grant_tokens_are_plaintext_through_the_orm_and_ciphertext_in_the_column():
    grant = _grant()

    again = OrcidGrant.objects.get(pk=grant.pk)
    assert (again.access_token, again.refresh_token) == (ACCESS, REFRESH)
    raw_access, raw_refresh = _raw(OrcidGrant, grant.pk, "access_token", "refresh_token")
    for raw, plain in ((raw_access, ACCESS), (raw_refresh, REFRESH)):
        assert raw.startswith(crypto.PREFIX)
        assert plain not in raw and ACCESS not in raw and REFRESH not in raw
        assert crypto.decrypt(raw) == plain


def test_client_secret_is_plaintext_through_the_orm_and_ciphertext_in_the_column():
    consortium = f.ConsortiumFactory()
    client = RegistryClient.objects.create(consortium=consortium, client_id="APP-CONSORTIUM", client_secret=SECRET)

    assert RegistryClient.objects.get(pk=client.pk).client_secret == SECRET
    (raw_secret,) = _raw(RegistryClient, client.pk, "client_secret")
    assert SECRET not in raw_secret and raw_secret.startswith(crypto.PREFIX)


def test_rotating_keys_keeps_old_rows_readable_and_rewrites_them_with_the_new_key(settings):
    grant = _grant()
    (written_with_old,) = _raw(OrcidGrant, grant.pk, "access_token")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    grant = OrcidGrant.objects.get(pk=grant.pk)
    assert grant.access_token == ACCESS
    grant.save()  # any save re-encrypts with the first key
    (written_with_new,) = _raw(OrcidGrant, grant.pk, "access_token")
    assert written_with_new != written_with_old

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert OrcidGrant.objects.get(pk=grant.pk).access_token == ACCESS


def test_reading_with_a_wrong_key_fails_clearly_instead_of_returning_garbage(settings):
    grant = _grant()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(ValueError, match="encrypted with a key that is no longer configured"):
        OrcidGrant.objects.get(pk=grant.pk)
    # Columns that are not secret can still be read, e.g. to find the grants to ask for again.
    assert OrcidGrant.objects.filter(pk=grant.pk).values_list("email", flat=True).get() == "ada@uni.example"


def test_the_change_log_of_a_grant_and_a_client_holds_no_secret_at_all():
    grant = _grant()
    grant.access_token = ACCESS + "-renewed"
    grant.status = OrcidGrant.Status.REVOKED
    grant.save()
    client = RegistryClient.objects.create(consortium=f.ConsortiumFactory(), client_id="APP-X", client_secret=SECRET)

    records = list(ChangeRecord.objects.filter(object_id__in=[str(grant.pk), str(client.pk)],
                                               content_type__model__in=["orcidgrant", "registryclient"]))
    assert {r.action for r in records} == {ChangeRecord.Action.CREATE, ChangeRecord.Action.UPDATE}
    logged = json.dumps([[r.before, r.after, r.object_repr] for r in records])
    assert "revoked" in logged  # the change itself is recorded
    for secret in (ACCESS, REFRESH, SECRET, crypto.PREFIX):
        assert secret not in logged
    assert all("access_token" not in (r.after or {}) and "client_secret" not in (r.after or {}) for r in records)
