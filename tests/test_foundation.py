"""The app answers: health, JSON errors everywhere on the API, HTML errors for pages."""

import shutil

import pytest


def test_healthz_reports_database_and_storage(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "storage": "ok"}


def test_healthz_reports_unwritable_storage(app, client):
    shutil.rmtree(app.config["PHOTO_DIR"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["storage"] == "failing"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/stores/999999"])
def test_api_errors_are_json(client, path, make_user, auth_headers):
    response = client.get(path, headers=auth_headers(make_user("admin")))
    assert response.status_code == 404
    assert response.is_json
    assert response.json["code"] == 404
    assert response.json["message"]


def test_api_needs_a_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["status"] == "Unauthorized"


def test_pages_get_html_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/stores/{store_id}" in paths
