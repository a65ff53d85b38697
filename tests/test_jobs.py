"""Background jobs: a region report rendered in this process, followed through /api/v1/jobs."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from supervision import tasks
from supervision.accounts.models import User
from supervision.accounts.tokens import issue_token
from supervision.db import db, utcnow
from supervision.jobs import services as jobs
from supervision.jobs.models import Job
from tests.report_data import build_region


@pytest.fixture
def region(app, load_checklists):
    load_checklists()
    with app.app_context():
        built = build_region(app, photo_size=None, history=1)
        built["tokens"] = {role: issue_token(db.session.get(User, user_id))
                           for role, user_id in built["users"].items()}
    return built


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_region_report_is_a_job_then_the_same_link_gives_the_pdf(client, region):
    url = f"/api/v1/regions/{region['region_id']}/report.pdf?lang=en&from=2020-01-01&to=2020-12-31"
    manager = bearer(region["tokens"]["manager"])
    pending = client.get(url, headers=manager)
    assert pending.status_code == 202
    assert pending.headers["Location"] == f"/api/v1/jobs/{pending.json['id']}"
    assert pending.json["status"] in ("queued", "running", "done")
    tasks.drain()
    status = client.get(pending.headers["Location"], headers=manager)
    assert status.status_code == 200
    assert (status.json["status"], status.json["progress"]) == ("done", 100)
    assert status.json["result_url"] == url.removeprefix("http://localhost")
    done = client.get(status.json["result_url"], headers=manager)
    assert done.status_code == 200 and done.data.startswith(b"%PDF")
    assert "region-EAST-2020-01-01-2020-12-31-en.pdf" in done.headers["Content-Disposition"]


def test_the_same_report_is_one_job(app, client, region):
    url = f"/api/v1/regions/{region['region_id']}/report.pdf?lang=zh"
    with app.app_context():
        user = db.session.get(User, region["users"]["manager"])
        first, fresh = jobs.enqueue("region_report", "k" * 64, {"region_id": 1}, user)
        again, fresh_again = jobs.enqueue("region_report", "k" * 64, {"region_id": 1}, user)
        db.session.rollback()
    assert (first.id, fresh, fresh_again) == (again.id, True, False)
    first = client.get(url, headers=bearer(region["tokens"]["manager"]))
    assert first.status_code == 202 and first.json["status"] == "done"  # TASK_MODE=inline
    again = client.get(url, headers=bearer(region["tokens"]["manager"]))
    assert again.status_code == 200 and again.data.startswith(b"%PDF")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def test_a_failing_job_reports_its_error(app, client, region):
    with app.app_context():
        user = db.session.get(User, region["users"]["admin"])
        job, _ = jobs.enqueue("region_report", "f" * 64,
                              {"region_id": 999_999, "from": "2024-01-01", "to": "2024-01-31",
                               "lang": "zh", "url": "/x"}, user)
        db.session.commit()
    answer = client.get(f"/api/v1/jobs/{'f' * 64}", headers=bearer(region["tokens"]["admin"]))
    assert answer.json["status"] == "failed"
    assert "could not be rendered" in answer.json["error"] and answer.json["result_url"] is None


def test_a_stale_job_is_queued_again(app, region):
    with app.app_context():
        user = db.session.get(User, region["users"]["admin"])
        db.session.add(Job(id="s" * 64, kind="region_report", params={}, status="running",
                           created_by_id=user.id, updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        job, fresh = jobs.enqueue("region_report", "s" * 64, {"region_id": 1}, user)
        assert (fresh, job.status, job.progress) == (True, "queued", 0)
        db.session.rollback()


@pytest.mark.parametrize(("who", "status"), [
    ("manager", 200),      # asked for it
    ("admin", 200),
    ("other_manager", 200),  # a manager of the same region
    ("outsider", 404),       # a manager elsewhere
    ("supervisor", 404),
    ("shopper", 404),
])
def test_who_may_follow_a_job(app, client, region, make_user, who, status):
    with app.app_context():
        from supervision.stores.models import Region

        east = db.session.get(Region, region["region_id"])
        region["tokens"]["other_manager"] = issue_token(make_user("manager", [east]))
        region["tokens"]["outsider"] = issue_token(make_user("manager"))
    url = f"/api/v1/regions/{region['region_id']}/report.pdf"
    location = client.get(url, headers=bearer(region["tokens"]["manager"])).headers["Location"]
    tasks.drain()
    answer = client.get(location, headers=bearer(region["tokens"][who]))
    assert answer.status_code == status
    assert answer.is_json


def test_an_unknown_job_is_404(client, region):
    answer = client.get("/api/v1/jobs/nope", headers=bearer(region["tokens"]["admin"]))
    assert answer.status_code == 404 and answer.json["message"] == "Job nope not found."
