"""/api/schema/ is the OpenAPI contract: it must generate without warnings or errors, and validate."""
import pytest
from django.core.management import call_command


def test_schema_generates_and_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning (untyped field, unresolvable path parameter,
    # ...) into a failure; --validate checks the result against the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/me/", "/api/v1/memberships/", "/api/v1/api-tokens/{id}/revoke/"):
        assert f"  {path}:" in text
    assert "bearerAuth" in text


@pytest.mark.django_db
def test_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content
