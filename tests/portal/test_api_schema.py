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


def test_every_operation_documents_its_errors_as_problem_details(tmp_path):
    import yaml

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 60
    for path, method, op in operations:
        responses = op["responses"]
        expected = {"401", "403", "406", "503"}
        if "{" in path:
            expected.add("404")
        if method == "post":
            expected |= {"400", "413", "415"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}, (method, path, status)
                assert response["description"]
    create = schema["paths"]["/api/v1/work-items/"]["post"]["responses"]
    assert {"409", "422"} <= set(create)
