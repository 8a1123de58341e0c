"""The OpenAPI schema at /api/v1/schema/ generates without warnings (names, types, enums)."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/organisations/" in (tmp_path / "schema.yaml").read_text()
