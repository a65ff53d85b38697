"""Background jobs: a region report rendered in this process, followed through /api/v1/jobs."""

import threading
import uuid
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from supervision import tasks
from supervision.accounts.models import User
from supervision.accounts.tokens import issue_token
from supervision.db import db, utcnow
from supervision.jobs import services as jobs
from supervision.jobs.models import Job
from tests.report_data import build_region
from tests.servers import DEADLINE, wait_until

# The tests beat often and declare a job dead soon, so that they wait little (the defaults are
# 5 s and 30 s).
HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": 0.05, "JOB_HEARTBEAT_TIMEOUT_SECONDS": 3}


@pytest.fixture
def task_mode(request):
    """TASK_MODE: inline unless a test names another by indirect parametrization."""
    return getattr(request, "param", "inline")


@pytest.fixture
def app_config(app_config, task_mode):
    return {**app_config, **HEARTBEAT, "TASK_MODE": task_mode}


@pytest.fixture
def region(app, load_checklists):
    load_checklists()
    with app.app_context():
        built = build_region(app, photo_size=None, history=1)
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


def job_row(app, region, status="running", age=timedelta(minutes=2), beat_age=None,
            error=None) -> str:
    """A region-report job stored as a worker left it: last written `age` ago, its heartbeat
    `beat_age` ago (None: never started)."""
    job_id = uuid.uuid4().hex
    with app.test_request_context():
        params = {**report_params(region), "url": url_for(
            "reports.RegionReportView", region_id=region["region_id"], lang="en",
            **{"from": "2020-01-01", "to": "2020-12-31"})}
    with app.app_context():
        now = utcnow()
        db.session.add(Job(id=job_id, kind="region_report", params=params, status=status,
                           progress=40 if status == "running" else 0, error=error,
                           created_by_id=region["users"]["manager"], updated_at=now - age,
                           heartbeat_at=None if beat_age is None else now - beat_age))
        db.session.commit()
    return job_id


def report_params(region) -> dict:
    return {"region_id": region["region_id"], "from": "2020-01-01", "to": "2020-12-31",
            "lang": "en"}


def follow_once(client, region, job_id) -> dict:
    answer = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(region["tokens"]["manager"]))
    assert answer.status_code == 200, answer.json
    return answer.json


@pytest.mark.parametrize(("status", "beat_age"), [
    ("running", timedelta(minutes=2)),  # its worker died mid-render, two minutes ago
    ("queued", None),                   # its process died before it started
], ids=["running", "queued"])
def test_a_job_whose_worker_died_runs_again(app, client, region, status, beat_age):
    job_id = job_row(app, region, status, beat_age=beat_age)
    job = follow_once(client, region, job_id)
    assert (job["status"], job["progress"], job["error"]) == ("done", 100, None)  # inline: run
    done = client.get(job["result_url"], headers=bearer(region["tokens"]["manager"]))
    assert done.status_code == 200 and done.data.startswith(b"%PDF")


def test_a_job_whose_worker_died_again_fails_saying_so(app, client, region):
    job_id = job_row(app, region, beat_age=timedelta(minutes=2), error=jobs.RUNS_AGAIN)
    job = follow_once(client, region, job_id)
    assert job["status"] == "failed" and "stopped" in job["error"]
    assert job["result_url"] is None
    asked = client.get(f"/api/v1/regions/{region['region_id']}/report.pdf?lang=en&from=2020-01-01"
                       "&to=2020-12-31", headers=bearer(region["tokens"]["manager"]))
    assert asked.status_code == 202  # asking again runs it afresh


def test_a_job_with_a_recent_heartbeat_is_left_running(app, client, region):
    job_id = job_row(app, region, age=timedelta(minutes=5), beat_age=timedelta(seconds=0))
    job = follow_once(client, region, job_id)
    assert (job["status"], job["progress"], job["error"]) == ("running", 40, None)


def test_asking_again_for_a_job_whose_heartbeat_stopped_runs_it_again(app, region):
    with app.app_context():
        user = db.session.get(User, region["users"]["manager"])
        job_id = job_row(app, region, age=timedelta(minutes=2), beat_age=timedelta(minutes=2))
        job, fresh = jobs.enqueue("region_report", job_id, {"region_id": 1}, user)
        assert (fresh, job.status, job.progress, job.heartbeat_at) == (True, "queued", 0, None)
        db.session.rollback()


RELEASE = threading.Event()


def held_runner(job, progress) -> str:
    """A job kind for the tests: runs until the test sets RELEASE."""
    assert RELEASE.wait(DEADLINE), "the test never released the job"
    return "held"


def state(app, job_id: str) -> tuple:
    """(status, heartbeat_at, updated_at) of a job as stored."""
    with app.app_context():
        job = db.session.get(Job, job_id)
        return job.status, job.heartbeat_at, job.updated_at


@pytest.fixture
def held_jobs(app, region, monkeypatch):
    """Queue held jobs by id (they start when this commits, on this process's reports thread);
    every one is released and ended after the test."""
    monkeypatch.setitem(jobs.RUNNERS, "held", f"{__name__}:held_runner")
    RELEASE.clear()

    def queue(*job_ids):
        with app.app_context():
            user = db.session.get(User, region["users"]["manager"])
            for job_id in job_ids:
                jobs.enqueue("held", job_id, report_params(region), user)
            db.session.commit()

    yield queue
    RELEASE.set()
    tasks.drain()


@pytest.mark.parametrize("task_mode", ["thread"], indirect=True)
def test_a_running_job_beats_until_it_ends(app, held_jobs):
    job_id = "b" * 64
    held_jobs(job_id)
    beats = set()

    def beating():
        status, beat, _ = state(app, job_id)
        if status == "running" and beat is not None:
            beats.add(beat)
        return len(beats) >= 3

    wait_until(beating, "the running job's heartbeat to move twice")
    RELEASE.set()
    tasks.drain()
    assert state(app, job_id)[0] == "done"
    assert not [t for t in threading.enumerate() if t.name.startswith("job-heartbeat")]


@pytest.mark.parametrize("task_mode", ["thread"], indirect=True)
def test_a_job_waiting_behind_another_in_this_process_is_not_dead(app, client, region,
                                                                   held_jobs):
    first, second = "1" * 64, "2" * 64
    held_jobs(first, second)  # one reports thread: the second waits for the first
    wait_until(lambda: state(app, first)[0] == "running", "the first job to run")
    queued_at = state(app, second)[2]
    limit = timedelta(seconds=HEARTBEAT["JOB_HEARTBEAT_TIMEOUT_SECONDS"])
    wait_until(lambda: utcnow() - queued_at > 2 * limit, "the second job to wait past the limit",
               every=0.2)
    job = follow_once(client, region, second)
    assert (job["status"], job["error"]) == ("queued", None)
    assert follow_once(client, region, first)["status"] == "running"
