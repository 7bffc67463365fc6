"""The API's shared conventions: one error shape, the schema, the docs."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_unknown_api_route_gives_json_404():
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_unauthenticated_request_gets_error_shape():
    response = Client().get("/api/v1/customers/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] in ("not_authenticated", "authentication_failed")


def test_bad_api_key_is_401_with_error_shape():
    response = Client().get("/api/v1/customers/", HTTP_AUTHORIZATION="Api-Key lk_nope.secret")
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "message": "Invalid API key.",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == "Api-Key"


def test_openapi_schema_is_valid_openapi_3():
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on any violation of the OpenAPI 3 meta-schema
    assert "/api/v1/customers/" in spec["paths"]
    assert spec["components"]["securitySchemes"]["ApiKeyAuth"]["type"] == "apiKey"


def test_schema_generation_has_no_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (untyped field,
    # unresolvable path parameter...) into a failure.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


def test_interactive_docs_served_without_cdn():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_request_id_is_echoed_and_generated():
    client = Client()
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
