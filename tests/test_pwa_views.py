"""The PWA's server side: page shells, manifest, service worker, session→token, JS strings."""

import io
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from PIL import Image

from tests.conftest import csrf_of, log_in

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "supervision" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
SHELLS = ["/", "/stores", "/audit", "/mystery", "/outbox", "/visits", "/visit", "/actions",
          "/notifications"]


def _fetch(client, url: str) -> tuple[int, bytes]:
    """GET and close (static files are streamed from disk)."""
    with client.get(url) as response:
        return response.status_code, response.data


@pytest.mark.parametrize("path", SHELLS)
def test_shells_need_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("role", "nav"), [
    ("supervisor", "/stores"), ("shopper", "/outbox"), ("manager", "/actions")])
def test_shells_render_for_each_role_in_both_languages(client, make_user, role, nav):
    log_in(client, make_user(role))
    for path in SHELLS:
        page = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert f'data-role="{role}"' in page and f'href="{nav}"' in page
        assert f"/static/js/pages/{path.strip('/') or 'home'}.js" in page
    chinese = client.get("/?lang=zh").get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and "营业厅督导" in chinese


def test_a_language_picked_on_a_page_becomes_the_accounts(app, client, make_user):
    from supervision.accounts.models import User
    from supervision.db import db

    user = make_user("manager")
    log_in(client, user)

    def locale():
        with app.app_context():
            return db.session.get(User, user.id).locale

    client.get("/actions?lang=en")
    assert locale() == "en"
    client.get("/api/v1/actions?lang=zh")  # the API reads the language, never sets it
    assert locale() == "en"
    client.get("/?lang=zh")
    assert locale() == "zh"


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor", "shopper"])
def test_every_role_has_the_notification_bell(client, make_user, role):
    log_in(client, make_user(role))
    page = client.get("/notifications?lang=zh").get_data(as_text=True)
    assert 'id="bell" href="/notifications"' in page and 'aria-label="通知"' in page
    assert "<h1>通知</h1>" in page and "/static/js/pages/notifications.js" in page


def test_manifest_names_the_icons_that_exist(client):
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"})
    assert response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["name"] == "营业厅督导" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(_fetch(client, icon["src"])[1]))
        assert f"{image.width}x{image.height}" == icon["sizes"] and image.format == "PNG"
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}


def test_service_worker_is_served_from_the_root_and_precaches_what_exists(client, make_user):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__VERSION__" not in source and "__PRECACHE__" not in source
    urls = re.findall(r'^  "([^"]+)",?$', source, re.M)
    assert set(SHELLS) <= set(urls) and "/i18n/zh.json" in urls
    assert {"/static/js/outbox.js", "/static/js/pages/audit.js",
            "/static/js/pages/notifications.js", "/static/css/app.css"} <= set(urls)
    log_in(client, make_user("supervisor"))
    for url in urls:
        assert _fetch(client, url)[0] == 200, url


def test_service_worker_version_follows_the_files(app, tmp_path):
    from supervision.pwa.views import build_version

    copy = tmp_path / "static"
    shutil.copytree(ROOT / "static", copy)
    with app.test_request_context():
        first = build_version()
        assert build_version() == first and re.fullmatch(r"[0-9a-f]{16}", first)
        app.static_folder = str(copy)
        (copy / "css" / "app.css").write_text("body { color: red; }")
        assert build_version() != first  # a changed file: a new worker, a new cache


def test_session_trades_for_a_bearer_token_with_csrf(client, make_user):
    user = make_user("supervisor")
    assert client.post("/app/token").status_code == 400  # no CSRF token
    anonymous = csrf_of(client.get("/login").get_data(as_text=True))
    headers = {"X-CSRFToken": anonymous, "Accept": "application/json"}
    refused = client.post("/app/token", headers=headers)
    assert refused.status_code == 401 and refused.json["message"] == "Log in first."
    csrf = log_in(client, user)
    assert client.post("/app/token").status_code == 400  # no CSRF token
    response = client.post("/app/token", headers={"X-CSRFToken": csrf})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json["user"] == {"id": user.id, "email": user.email, "name": user.name,
                                     "role": "supervisor"}
    bearer = {"Authorization": f"Bearer {response.json['token']}"}
    me = client.application.test_client().get("/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json["id"] == user.id  # works without the cookie
    client.post("/logout", data={"csrf_token": csrf})
    assert client.application.test_client().get("/api/v1/me", headers=bearer).status_code == 401


@pytest.mark.parametrize(("lang", "source", "expected"), [
    ("zh", "Submit audit", "提交检查"),
    ("zh", "{n} visit(s) waiting to be sent", "{n} 条记录待发送"),
    ("en", "Submit audit", None),
])
def test_js_strings_come_from_the_gettext_catalogue(client, lang, source, expected):
    strings = client.get(f"/i18n/{lang}.json").json
    assert strings.get(source) == expected
    if lang == "zh":
        assert "Log in" not in strings  # a template's string, not used by the JS


def test_unknown_language_is_404(client):
    assert client.get("/i18n/fr.json").status_code == 404


def _js_strings() -> set[str]:
    pattern = re.compile(r"""\b_\(\s*'((?:[^'\\]|\\.)*)'""")
    return {match for path in (ROOT / "static" / "js").rglob("*.js")
            for match in pattern.findall(path.read_text(encoding="utf-8"))}


def test_every_string_is_translated_into_chinese():
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not all(
        [m.string] if isinstance(m.string, str) else m.string))]
    assert untranslated == []
    translated = {m.id for m in catalog if isinstance(m.id, str)}
    assert _js_strings() - translated == set()  # every JS string was extracted (none in `${…}`)
