"""Checklists over HTTP: list, current version with ETag/304, old versions, admin uploads."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from supervision.db import db

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"
DISPUTE = (CHECKLISTS / "dispute-handling.yaml").read_text(encoding="utf-8")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def _upload(client, headers, text, source="dispute-handling.yaml"):
    return client.post(f"/api/v1/checklists?source={source}", data=text.encode(),
                       content_type="application/yaml", headers=headers)


def test_list_and_fetch_with_etag(client, load_checklists, admin, auth_headers):
    load_checklists()
    headers = auth_headers(admin)
    listing = client.get("/api/v1/checklists", headers=headers).json
    assert {c["slug"]: c["kind"] for c in listing} == {
        "dispute-handling": "audit", "mystery-visit": "mystery", "storefront-audit": "audit"}
    first = client.get("/api/v1/checklists/storefront-audit", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    sections = first.json["definition"]["sections"]
    assert {s["function"] for s in sections} == {
        "sales", "image", "service", "transaction", "consultation", "information"}
    again = client.get("/api/v1/checklists/storefront-audit",
                       headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_every_role_reads_checklists(client, load_checklists, make_user, auth_headers):
    load_checklists()
    for role in ("manager", "supervisor", "shopper"):
        response = client.get("/api/v1/checklists/mystery-visit",
                              headers=auth_headers(make_user(role)))
        assert response.status_code == 200


def test_upload_new_version_keeps_the_old_one(client, app, admin, auth_headers):
    headers = auth_headers(admin)
    created = _upload(client, headers, DISPUTE)
    assert created.status_code == 201 and created.json["version"] == 1
    assert _upload(client, headers, DISPUTE + "\n# only a comment\n").status_code == 200
    changed = DISPUTE.replace("en: Dispute handling audit", "en: Dispute handling check")
    second = _upload(client, headers, changed)
    assert second.status_code == 201 and second.json["version"] == 2
    old = client.get("/api/v1/checklists/dispute-handling/versions/1", headers=headers).json
    assert old["definition"]["title"]["en"] == "Dispute handling audit"
    current = client.get("/api/v1/checklists/dispute-handling", headers=headers).json
    assert current["definition"]["title"]["en"] == "Dispute handling check"
    missing = client.get("/api/v1/checklists/dispute-handling/versions/9", headers=headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("weight: 2", "weight: -2", 1), "dh_accept_apologise"),
        (lambda t: t.replace("type: yes_no", "type: stars", 1), "dh_first_asker"),
        (lambda t: t.replace("- id: dh_accept_apologise", "- id: dh_first_asker"),
         "dh_first_asker"),
        (lambda t: t + "\n  - [unclosed",
         f"dispute-handling.yaml:{len(DISPUTE.splitlines()) + 2}: YAML syntax error"),
    ],
)
def test_broken_upload_is_422_and_changes_nothing(client, app, admin, auth_headers, edit,
                                                  expected):
    from supervision.checklists.models import ChecklistVersion

    headers = auth_headers(admin)
    assert _upload(client, headers, DISPUTE).status_code == 201
    response = _upload(client, headers, edit(DISPUTE))
    assert response.status_code == 422
    problems = response.json["errors"]["yaml"]
    assert any(expected in problem for problem in problems), problems
    assert "dispute-handling.yaml" in problems[0]
    with app.app_context():
        assert db.session.scalar(select(func.count(ChecklistVersion.id))) == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_file_in_any_editor_encoding_reads_the_same_through_the_api_and_the_page(
        app, client, admin, auth_headers, encoding):
    """A Chinese editor's GB18030, or UTF-8 with or without BOM: the API decodes the raw body as
    the admin page decodes the uploaded file, so the page finds the same content."""
    import io
    import re

    from supervision.checklists.models import ChecklistVersion

    data = DISPUTE.encode(encoding)
    created = client.post("/api/v1/checklists?source=d.yaml", data=data,
                          content_type="application/yaml", headers=auth_headers(admin))
    assert created.status_code == 201, created.json
    assert created.json["definition"]["sections"][0]["title"]["zh"] == "接待与平息"
    page = app.test_client()
    login = page.get("/login").get_data(as_text=True)
    page.post("/login", data={"email": admin.email, "password": "secret-pw",
                              "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                      login)[1]})
    form = page.get("/admin/checklists").get_data(as_text=True)
    uploaded = page.post("/admin/checklists", content_type="multipart/form-data", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form)[1],
        "file": (io.BytesIO(data), "d.yaml")})
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    with app.app_context():  # the same content: no second version
        assert db.session.scalar(select(func.count(ChecklistVersion.id))) == 1


def test_upload_as_json_and_bad_bodies(client, admin, auth_headers):
    headers = auth_headers(admin)
    ok = client.post("/api/v1/checklists", json={"yaml": DISPUTE, "source": "d.yaml"},
                     headers=headers)
    assert ok.status_code == 201
    wrong_type = client.post("/api/v1/checklists", json={"yaml": 5}, headers=headers)
    assert wrong_type.status_code == 422 and "yaml" in wrong_type.json["errors"]["json"]
    no_body = client.post("/api/v1/checklists", data=b"\x00", content_type="image/png",
                          headers=headers)
    assert no_body.status_code == 422
    long_name = _upload(client, headers, DISPUTE, source="d" * 256 + ".yaml")
    assert long_name.status_code == 422 and "source" in long_name.json["errors"]["query"]
    assert _upload(client, headers, DISPUTE, source="d" * 250 + ".yaml").status_code == 200


def test_cli_reload_creates_next_version_and_old_visit_scores_the_same(
        app, runner, tmp_path, make_store, make_user, make_visit):
    """Editing a file and reloading creates version n+1; a visit of version n keeps its score."""
    from supervision.checklists.services import current_version, definition_of
    from supervision.scoring import score_visit
    from supervision.visits.models import Visit
    from supervision.visits.snapshot import answers_of

    visit_id = make_visit(make_store(), make_user(), slug="dispute-handling",
                          answers={"dh_accept_apologise": False})
    edited = tmp_path / "dispute-handling.yaml"
    edited.write_text(DISPUTE.replace("weight: 2", "weight: 5", 1), encoding="utf-8")
    result = runner.invoke(args=["checklists", "load", str(edited)])
    assert result.exit_code == 0 and "new     dispute-handling v2" in result.output
    with app.app_context():
        assert current_version("dispute-handling").version == 2
        visit = db.session.get(Visit, visit_id)
        assert visit.checklist_version.version == 1
        answers = answers_of(visit)
        rescored = score_visit(definition_of(visit.checklist_version), answers).to_dict()
        assert rescored["total"] == visit.total
        on_new = score_visit(definition_of(current_version("dispute-handling")), answers)
        assert on_new.to_dict()["total"] < visit.total  # the heavier weight would cost more


def test_cli_refuses_a_broken_file_and_keeps_versions(app, runner, tmp_path, load_checklists):
    from supervision.checklists.services import current_version

    load_checklists()
    broken = tmp_path / "dispute-handling.yaml"
    broken.write_text(DISPUTE.replace("zh: 争议处理检查表\n", "", 1), encoding="utf-8")
    result = runner.invoke(args=["checklists", "load", str(broken)])
    assert result.exit_code == 1
    assert "dispute-handling.yaml" in result.output
    with app.app_context():
        assert current_version("dispute-handling").version == 1
