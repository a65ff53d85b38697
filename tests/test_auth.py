"""Bearer tokens, login pages with CSRF, rate limits, and bad input to the auth endpoints."""

import re

import pytest

from supervision.db import db


def test_token_for_good_credentials(client, make_user):
    user = make_user("manager", email="m@example.com", password="right-pw")
    response = client.post("/api/v1/auth/token",
                           json={"email": "M@example.com", "password": "right-pw"})
    assert response.status_code == 200
    assert response.json["user"] == {
        "id": user.id, "email": "m@example.com", "name": user.name, "role": "manager",
        "locale": None, "regions": [], "stores": [],
    }
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200 and me.json["email"] == "m@example.com"


def test_wrong_password_is_401(client, make_user):
    make_user(email="x@example.com", password="right-pw")
    response = client.post("/api/v1/auth/token",
                           json={"email": "x@example.com", "password": "nope"})
    assert response.status_code == 401
    assert response.json["message"] == "Wrong e-mail or password."


def test_token_dies_with_deactivation_and_password_change(app, client, make_user, auth_headers):
    from supervision.accounts.models import User

    user = make_user()
    headers = auth_headers(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        db.session.get(User, user.id).set_password("another-pw")
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "email"),
        ({"email": "a@example.com"}, 422, "password"),
        ({"email": 12, "password": "x"}, 422, "email"),
        ({"email": "not-an-email", "password": "x"}, 422, "email"),
        ({"email": "a@example.com", "password": ["x"]}, 422, "password"),
        ({"email": "a@example.com", "password": "x" * 5000}, 422, "password"),
        ([1, 2, 3], 422, None),
        ("just a string", 422, None),
    ],
)
def test_bad_token_requests_are_4xx_json(client, body, status, field):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == status
    assert response.is_json and response.json["code"] == status
    if field:
        assert field in response.json["errors"]["json"]
        assert field in response.json["message"]


def test_malformed_and_huge_bodies(client):
    malformed = client.post("/api/v1/auth/token", data="{not json",
                            content_type="application/json")
    assert malformed.status_code == 400 and malformed.is_json
    assert malformed.json["message"] == "body: Invalid JSON body."
    huge = client.post("/api/v1/auth/token", data=b'{"email": "' + b"a" * (9 << 20) + b'"}',
                       content_type="application/json")
    assert huge.status_code == 413 and huge.is_json
    assert "too large: the limit is 8,388,608 bytes" in huge.json["message"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_RATE_LIMIT": "3 per minute"}


def test_login_attempts_are_rate_limited(client):
    body = {"email": "who@example.com", "password": "guess"}
    codes = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert client.post("/api/v1/auth/token", json=body).json["code"] == 429


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_login_page_needs_csrf_and_sets_a_session(client, make_user):
    make_user(email="s@example.com", password="pw-123456")
    form = {"email": "s@example.com", "password": "pw-123456"}
    assert client.post("/login", data=form).status_code == 400  # no CSRF token
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={**form, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json["email"] == "s@example.com"


def test_cookie_authenticated_api_writes_need_csrf(client, make_user):
    make_user(email="c@example.com", password="pw-123456")
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "c@example.com", "password": "pw-123456",
                                "csrf_token": token})
    # A write from a page that cannot show the token is refused (a forged cross-site form).
    response = client.post("/api/v1/checklists", data="slug: x", content_type="application/yaml")
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]
