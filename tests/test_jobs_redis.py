"""Jobs across real processes: a region report rendered by a real `flask jobs worker` process on
a real Redis, a work horse or a whole worker killed mid-render, a server killed mid-render, and
login limits that hold across two server processes."""

import json
import os
import signal
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis

from supervision.db import db, utcnow
from supervision.jobs import services as jobs
from supervision.jobs.models import Job
from tests.servers import finish, wait_until
from tests.visit_support import kill_worker, live_server, worker

# Beat often and declare a job dead soon, so that the tests wait little (the defaults are 5 s
# and 30 s); every process of a test (server, workers) has the same settings.
HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": 0.2, "JOB_HEARTBEAT_TIMEOUT_SECONDS": 3}
LIMIT = timedelta(seconds=HEARTBEAT["JOB_HEARTBEAT_TIMEOUT_SECONDS"])


@pytest.fixture
def app_config(app_config, redis_url):
    Redis.from_url(redis_url).flushdb()  # no queued leftovers of another test
    return {**app_config, **HEARTBEAT, "REDIS_URL": redis_url, "TASK_MODE": "queue"}


@pytest.fixture
def region_world(make_world, make_visit):
    world = make_world(regions={"east": {"name": "华东"}},
                       stores={"store": {"region": "east", "code": "E1"}},
                       people={"supervisor": ("supervisor", "east"),
                               "manager": ("manager", "east")})
    make_visit(world["store"], world["supervisor"])
    return {"region": world["east"], "headers": world["headers"]["manager"]}


def ask_report(client, world):
    return client.get(f"/api/v1/regions/{world['region'].id}/report.pdf?lang=en",
                      headers=world["headers"])


def follow(client, world, location: str, until=("done", "failed")) -> dict:
    def ended():
        job = client.get(location, headers=world["headers"]).json
        return job if job["status"] in until else None

    return wait_until(ended, f"the job at {location} to end", every=0.1)


def test_a_region_report_is_rendered_by_a_worker_process(app, client, region_world, tmp_path):
    first = ask_report(client, region_world)
    assert first.status_code == 202 and first.json["status"] == "queued"
    with app.app_context():
        assert db.session.get(Job, first.json["id"]).status == "queued"  # nothing runs in process
    with worker(app, tmp_path / "worker.log", "--burst"):
        job = follow(client, region_world, first.headers["Location"])
    assert job["status"] == "done" and job["progress"] == 100, (tmp_path / "worker.log").read_text()
    pdf = ask_report(client, region_world)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()


def _horses(worker_pid: int) -> list[int]:
    return [int(pid) for pid in
            Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()]


def _kill_horse_while_running(app, job_id: str, worker_pid: int) -> bool:
    """SIGKILL the process running the job, and wait until the worker has reaped it; False when
    the job ended before one was caught."""
    def running_or_ended():
        with app.app_context():
            status = db.session.get(Job, job_id).status
        if status in ("done", "failed"):
            return "ended"
        horses = _horses(worker_pid)
        return horses if status == "running" and horses else None

    horses = wait_until(running_or_ended, f"job {job_id} to run in a work horse", every=0.02)
    if horses == "ended":
        return False
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not set(horses) & set(_horses(worker_pid)), "the worker to reap its horse")
    return True


def test_the_worker_yields_the_cpu_to_the_web_processes(app, tmp_path):
    """Renders and photo derivatives run below the web's priority (nice +10 by default)."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    with worker(app, tmp_path / "worker.log") as process:
        wait_until(lambda: os.getpriority(os.PRIO_PROCESS, process.pid) == min(19, ours + 10),
                   "the worker to lower its priority")
    log = tmp_path / "as-started.log"
    with worker(app, log, "--nice", "0") as process:  # listening: past the priority change
        wait_until(lambda: "Listening on" in log.read_text(), "the worker to listen")
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == ours


def test_a_killed_render_is_retried_then_failed_never_left_running(app, client, region_world,
                                                                   tmp_path):
    first = ask_report(client, region_world)
    job_id = first.json["id"]
    with worker(app, tmp_path / "worker.log") as process:
        assert _kill_horse_while_running(app, job_id, process.pid)
        # The retry may finish first when the killed run had already stored the PDF.
        killed_again = _kill_horse_while_running(app, job_id, process.pid)
        job = follow(client, region_world, first.headers["Location"])
        if killed_again:  # no retry left: failed, with a message, and asking again re-runs it
            assert job["status"] == "failed" and "stopped" in job["error"]
            again = ask_report(client, region_world)
            if again.status_code == 200:  # a killed run had stored the PDF before it died
                assert again.data.startswith(b"%PDF")
                again.close()
                return
            assert again.status_code == 202 and again.json["id"] == job_id
            job = follow(client, region_world, again.headers["Location"])
    log = (tmp_path / "worker.log").read_text()
    assert job["status"] == "done", log
    assert log.count("Work-horse terminated unexpectedly") == 1 + killed_again


def test_login_limits_hold_across_two_server_processes(app, database_url, redis_url, tmp_path):
    import json
    import urllib.error
    import urllib.request

    config = {"REDIS_URL": redis_url, "LOGIN_RATE_LIMIT": "3 per minute",
              "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    photos, log = app.config["PHOTO_DIR"], tmp_path / "servers.log"
    with live_server(database_url, photos, log, **config) as (_, one), \
            live_server(database_url, photos, log, **config) as (_, two):
        statuses = []
        for base in (one, two, one, two):
            body = json.dumps({"email": "nobody@example.com", "password": "wrong"}).encode()
            request = urllib.request.Request(f"{base}/api/v1/auth/token", body,
                                             {"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                error.close()
    assert statuses == [401, 401, 401, 429]


def test_photo_derivatives_are_made_by_a_worker_off_the_request_path(
        app, client, make_world, tmp_path):
    from tests.images import picture
    from tests.visit_support import VISIT_WORLD, audit_body

    world = make_world(**VISIT_WORLD)
    headers = world["headers"]["supervisor"]
    visit_id, photo_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = audit_body(world["store"].id, photos=[(photo_id, "signage")])
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    stored = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item=signage",
                        data=picture(1200, 900), headers={**headers, "Content-Type": "image/jpeg"})
    assert stored.status_code == 201 and stored.json["status"] == "received"
    with worker(app, tmp_path / "worker.log", "--burst", "--queue", "photos") as process:
        finish(process, tmp_path / "worker.log")
    visit = client.get(f"/api/v1/visits/{visit_id}", headers=headers).json
    assert [p["status"] for p in visit["photos"]] == ["processed"], \
        (tmp_path / "worker.log").read_text()


def stored(app, job_id: str) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def running_with_a_heartbeat(app, job_id: str) -> bool:
    job = stored(app, job_id)
    assert job.status not in ("done", "failed"), "the job ended before it could be killed"
    return job.status == "running" and job.heartbeat_at is not None


def declared_dead(app, job_id: str, look) -> dict:
    """Follow a job whose runner was killed (`look()` reads its document as a client does)
    until a reader sees it end or run again (a job run again says so in `error`). The state
    changes at the first look once the heartbeat is older than the limit: no reader after that
    may see the killed run still running."""
    def changed():
        stale = utcnow() - stored(app, job_id).heartbeat_at > LIMIT
        job = look()
        if job["status"] == "running" and job["error"] is None:
            assert not stale, f"seen running with a heartbeat older than {LIMIT}: {job}"
            return None
        return job

    return wait_until(changed, f"job {job_id} to be declared dead", every=0.2)


def test_a_job_whose_whole_worker_died_runs_again_on_the_next_worker(app, client, region_world,
                                                                     tmp_path):
    first = ask_report(client, region_world)
    job_id, location = first.json["id"], first.headers["Location"]
    log = tmp_path / "worker.log"
    with worker(app, log, **HEARTBEAT) as process:
        wait_until(lambda: running_with_a_heartbeat(app, job_id), "the job to run")
        kill_worker(process)
    assert stored(app, job_id).status == "running"  # killed mid-render
    job = declared_dead(app, job_id, lambda: client.get(location, headers=region_world[
        "headers"]).json)
    assert (job["status"], job["error"]) == ("queued", jobs.RUNS_AGAIN), log.read_text()
    # Queued in Redis with no worker to take it: waiting, not dead, however long it waits.
    queued_at = stored(app, job_id).updated_at
    wait_until(lambda: utcnow() - queued_at > 2 * LIMIT, "the job to wait past the limit",
               every=0.2)
    assert client.get(location, headers=region_world["headers"]).json["status"] == "queued"
    with worker(app, log, "--burst", **HEARTBEAT):
        job = follow(client, region_world, location)
    assert (job["status"], job["error"]) == ("done", None), log.read_text()
    pdf = ask_report(client, region_world)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()


def test_a_job_waiting_in_a_busy_queue_is_not_declared_dead(app, client, region_world,
                                                            tmp_path):
    first = ask_report(client, region_world)
    job_id, location = first.json["id"], first.headers["Location"]
    queued_at = stored(app, job_id).updated_at
    wait_until(lambda: utcnow() - queued_at > 2 * LIMIT, "the job to wait past the limit",
               every=0.2)
    for look in (lambda: client.get(location, headers=region_world["headers"]).json,
                 lambda: ask_report(client, region_world).json):
        assert (look()["status"], look()["error"]) == ("queued", None)
    assert stored(app, job_id).updated_at == queued_at  # not queued a second time
    with worker(app, tmp_path / "worker.log", "--burst", **HEARTBEAT):
        job = follow(client, region_world, location)
    assert job["status"] == "done", (tmp_path / "worker.log").read_text()


def _get(base: str, path: str, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, headers={**headers,
                                                            "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = answer.read()
            is_json = answer.headers.get_content_type() == "application/json"
            return answer.status, json.loads(body) if is_json else {"body": body}
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


def test_a_render_killed_with_its_server_runs_again_on_the_restarted_server(
        app, database_url, region_world, tmp_path):
    photos, log = app.config["PHOTO_DIR"], tmp_path / "server.log"
    config = {**HEARTBEAT, "TASK_MODE": "thread"}  # renders on a thread of the server
    report = f"/api/v1/regions/{region_world['region'].id}/report.pdf?lang=en"
    with live_server(database_url, photos, log, **config) as (process, base):
        status, job = _get(base, report, region_world["headers"])
        assert status == 202, job
        wait_until(lambda: running_with_a_heartbeat(app, job["id"]), "the job to run")
        process.kill()
        process.wait()
    assert stored(app, job["id"]).status == "running"  # killed mid-render
    location = f"/api/v1/jobs/{job['id']}"
    with live_server(database_url, photos, log, **config) as (_, base):
        seen = declared_dead(app, job["id"], lambda: _get(base, location,
                                                          region_world["headers"])[1])
        assert seen["error"] == jobs.RUNS_AGAIN or seen["status"] == "done", seen
        done = wait_until(lambda: (lambda doc: doc if doc["status"] in ("done", "failed")
                                   else None)(_get(base, location, region_world["headers"])[1]),
                          "the job run again to end", every=0.2)
        assert done["status"] == "done", log.read_text()[-4000:]
        status, pdf = _get(base, report, region_world["headers"])
        assert status == 200 and pdf["body"].startswith(b"%PDF")
