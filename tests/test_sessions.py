"""Sessions end: a password change, a logout (everywhere or here) and a deactivation end every
cookie session, remember-me cookie and bearer token issued before them; a bearer header decides
alone who calls the API, and every cookie-authenticated write needs the CSRF token."""


import pytest
from sqlalchemy import func, select

from supervision.db import db
from tests.conftest import csrf_of, log_in

NEW_PASSWORD = "another-secret-pw"


def _credentials(app, user, password="secret-pw") -> dict:
    """What one login hands out: the session and remember-me cookies, the session's CSRF token
    and a bearer token minted from the session, as the PWA does."""
    client = app.test_client()
    csrf = log_in(client, user, password)
    minted = client.post("/app/token", headers={"X-CSRFToken": csrf})
    assert minted.status_code == 200
    return {"client": client, "csrf": csrf, "token": minted.json["token"],
            "session": client.get_cookie("session").value,
            "remember_token": client.get_cookie("remember_token").value}


def _replay(app, name: str, value: str):
    """A fresh client holding nothing but one old cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _answers(app, old: dict) -> dict:
    """What each old credential gets now: from the API, a page, and POST /app/token."""
    answers = {"bearer": app.test_client().get("/api/v1/me", headers=_bearer(old["token"]))
               .status_code}
    for name in ("session", "remember_token"):
        client = _replay(app, name, old[name])
        page = client.get("/")
        answers[f"{name} page"] = page.status_code, page.headers.get("Location", "")[:6]
        answers[f"{name} api"] = client.get("/api/v1/me").status_code
        # The old session carries its CSRF secret; the remember-me cookie alone gets a new one.
        login_page = client.get("/login").get_data(as_text=True)
        csrf = old["csrf"] if name == "session" else csrf_of(login_page)
        answers[f"{name} token"] = client.post(
            "/app/token", headers={"X-CSRFToken": csrf, "Accept": "application/json"}).status_code
    return answers


ALIVE = {"bearer": 200, "session page": (200, ""), "session api": 200, "session token": 200,
         "remember_token page": (200, ""), "remember_token api": 200,
         "remember_token token": 200}
DEAD = {"bearer": 401, "session page": (302, "/login"), "session api": 401, "session token": 401,
        "remember_token page": (302, "/login"), "remember_token api": 401,
        "remember_token token": 401}


def _change_password(app, user, old, admin):
    response = app.test_client().post(f"/api/v1/admin/users/{user.id}/password",
                                      json={"password": NEW_PASSWORD}, headers=admin)
    assert response.status_code == 200
    return NEW_PASSWORD


def _logout_everywhere_with_token(app, user, old, admin):
    response = app.test_client().post("/api/v1/me/logout-everywhere",
                                      headers=_bearer(old["token"]))
    assert response.status_code == 204
    return "secret-pw"


def _logout_everywhere_from_a_page(app, user, old, admin):
    response = old["client"].post("/api/v1/me/logout-everywhere",
                                  headers={"X-CSRFToken": old["csrf"]})
    assert response.status_code == 204
    assert old["client"].get("/api/v1/me").status_code == 401
    return "secret-pw"


def _log_out(app, user, old, admin):
    response = old["client"].post("/logout", data={"csrf_token": old["csrf"]})
    assert response.status_code == 302
    assert old["client"].get_cookie("remember_token") is None  # cleared in the browser
    assert old["client"].get("/api/v1/me").status_code == 401
    return "secret-pw"


@pytest.mark.parametrize("end", [_change_password, _logout_everywhere_with_token,
                                 _logout_everywhere_from_a_page, _log_out])
def test_old_sessions_and_tokens_end(app, make_user, auth_headers, end):
    user, admin = make_user("supervisor"), auth_headers(make_user("admin"))
    old = _credentials(app, user)
    assert _answers(app, old) == ALIVE
    password = end(app, user, old, admin)
    assert _answers(app, old) == DEAD
    new = _credentials(app, user, password)
    assert _answers(app, new) == ALIVE
    # A device still holding the dead cookies works with its new token.
    me = old["client"].get("/api/v1/me", headers=_bearer(new["token"]))
    assert me.status_code == 200 and me.json["id"] == user.id


def test_cookies_from_before_generations_are_refused(app, make_user):
    from flask_login.utils import encode_cookie

    user = make_user()
    with app.test_request_context():
        signed = app.session_interface.get_signing_serializer(app)
        old = {"session": signed.dumps({"_user_id": str(user.id), "_fresh": True}),
               "remember_token": encode_cookie(str(user.id))}
    for name, value in old.items():
        assert _replay(app, name, value).get("/api/v1/me").status_code == 401, name


def test_logout_everywhere_from_a_page_needs_csrf(app, make_user):
    old = _credentials(app, make_user())
    refused = old["client"].post("/api/v1/me/logout-everywhere")
    assert refused.status_code == 400 and "CSRF" in refused.json["message"]
    assert _answers(app, old) == ALIVE


def _set_active(app, user, admin, active: bool) -> None:
    response = app.test_client().patch(f"/api/v1/admin/users/{user.id}",
                                       json={"active": active}, headers=admin)
    assert response.status_code == 200 and response.json["active"] is active


def test_deactivation_ends_sessions_for_good(app, make_user, auth_headers):
    user, admin = make_user("shopper"), auth_headers(make_user("admin"))
    old = _credentials(app, user)
    _set_active(app, user, admin, False)
    assert _answers(app, old) == DEAD
    _set_active(app, user, admin, True)
    assert _answers(app, old) == DEAD  # coming back does not bring the old sessions back
    assert _answers(app, _credentials(app, user)) == ALIVE


def test_deactivation_from_the_admin_page_ends_sessions(app, make_user):
    user, admin = make_user("manager"), make_user("admin")
    old = _credentials(app, user)
    page = app.test_client()
    csrf = log_in(page, admin)
    response = page.post(f"/admin/users/{user.id}/active", data={"active": "false",
                                                                 "csrf_token": csrf})
    assert response.status_code == 302
    page.post(f"/admin/users/{user.id}/active", data={"active": "true", "csrf_token": csrf})
    assert _answers(app, old) == DEAD


def _region_count(app) -> int:
    from supervision.stores.models import Region

    with app.app_context():
        return db.session.scalar(select(func.count(Region.id)))


@pytest.mark.parametrize("header", ["Bearer forged", "bearer forged", "Bearer ", "Bearer a.b.c"])
def test_a_bad_bearer_header_never_falls_back_to_the_cookie(app, make_user, header):
    old = _credentials(app, make_user("admin"))
    headers = {"Authorization": header}
    write = old["client"].post("/api/v1/admin/regions", json={"code": "NEW", "name": "新区"},
                               headers=headers)
    assert write.status_code == 401 and write.is_json
    assert old["client"].get("/api/v1/me", headers=headers).status_code == 401
    assert _region_count(app) == 0


def test_a_stale_bearer_token_never_falls_back_to_the_cookie(app, make_user, auth_headers):
    admin = make_user("admin")
    stale = auth_headers(admin)
    app.test_client().post("/api/v1/me/logout-everywhere", headers=stale)
    new = _credentials(app, admin)
    write = new["client"].post("/api/v1/admin/regions", json={"code": "NEW", "name": "新区"},
                               headers={**stale, "X-CSRFToken": new["csrf"]})
    assert write.status_code == 401 and write.is_json
    assert _region_count(app) == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YWRtaW46cHc="},
                                     {"X-CSRFToken": "not-the-token"}])
def test_cookie_writes_need_the_csrf_token(app, make_user, headers):
    old = _credentials(app, make_user("admin"))
    write = old["client"].post("/api/v1/admin/regions", json={"code": "NEW", "name": "新区"},
                               headers=headers)
    assert write.status_code == 400 and "CSRF" in write.json["message"]
    assert _region_count(app) == 0
    allowed = old["client"].post("/api/v1/admin/regions", json={"code": "NEW", "name": "新区"},
                                 headers={"X-CSRFToken": old["csrf"]})
    assert allowed.status_code == 201


def test_a_valid_bearer_token_needs_no_csrf_and_decides_alone(app, make_user):
    admin, supervisor = make_user("admin"), make_user("supervisor")
    admin_cookie, supervisor_cookie = _credentials(app, admin), _credentials(app, supervisor)
    body = {"code": "NEW", "name": "新区"}
    # The supervisor's token with the admin's cookies: the supervisor calls, and may not.
    as_supervisor = _bearer(supervisor_cookie["token"])
    assert admin_cookie["client"].get("/api/v1/me", headers=as_supervisor).json["id"] == \
        supervisor.id
    refused = admin_cookie["client"].post("/api/v1/admin/regions", json=body, headers=as_supervisor)
    assert refused.status_code == 403
    assert _region_count(app) == 0
    # The admin's token with the supervisor's cookies (as in the PWA): no CSRF token needed.
    created = supervisor_cookie["client"].post("/api/v1/admin/regions", json=body,
                                               headers=_bearer(admin_cookie["token"]))
    assert created.status_code == 201 and _region_count(app) == 1
