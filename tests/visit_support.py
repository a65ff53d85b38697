"""Shared by the visit tests: their world, visit bodies, a real server process."""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import PEOPLE
from tests.servers import DEADLINE, free_port, stop, wait_until

DATA = Path(__file__).parent / "data" / "visits"
ROOT = Path(__file__).resolve().parent.parent


def visit_config(database_url, tmp_path, **extra) -> dict:
    from tests.conftest import _test_config

    return {**_test_config(database_url, tmp_path / "photos"), **extra}


# build_world's arguments for the visit tests: the test checklists, stores E1 and W1, and a
# second supervisor in the east.
VISIT_WORLD = {
    "checklists": (DATA / "audit.yaml", DATA / "mystery.yaml"),
    "stores": {"store": {"region": "east", "code": "E1"},
               "west_store": {"region": "west", "code": "W1"}},
    "people": {**PEOPLE, "other_supervisor": ("supervisor", "east")},
}


# What a supervisor writes down when the red line "argues" is found (submission requires it).
ARGUES_NOTE = "柜台员工打断顾客并提高音量 / The clerk interrupted the customer, raising her voice."


def audit_body(store_id, responses=None, photos=(), revision=0, **extra) -> dict:
    """A test-audit body; `responses` maps item ids to values. A red-line finding (argues:
    true) carries its note, as a supervisor writes it."""
    answers = {"signage": True, "tidy": 4, "has_queue": True, "queue_minutes": 12,
               "argues": False} if responses is None else responses
    return {
        "store_id": store_id, "checklist": {"slug": "test-audit", "version": 1}, "kind": "audit",
        "started_at": "2025-03-01T09:30:00+08:00", "ended_at": "2025-03-01T10:15:00+08:00",
        "location": {"lat": 31.2387, "lon": 121.481, "accuracy_m": 12.5},
        "responses": [_response(item, value) for item, value in answers.items()],
        "photos": [{"id": str(p), "item": item} for p, item in photos],
        "revision": revision, **extra,
    }


def _response(item: str, value) -> dict:
    if (item, value) == ("argues", True):
        return {"item": item, "value": value, "note": ARGUES_NOTE}
    return {"item": item, "value": value}


def mystery_body(store_id, **extra) -> dict:
    return {
        "store_id": store_id, "checklist": {"slug": "test-mystery", "version": 1},
        "kind": "mystery", "started_at": "2025-03-02T14:00:00+08:00",
        "moments": [{"moment": "entered", "at": "2025-03-02T14:00:05+08:00"},
                    {"moment": "ticket_taken", "at": "2025-03-02T14:01:00+08:00"},
                    {"moment": "called", "at": "2025-03-02T14:13:30+08:00"}],
        "responses": [{"item": "greeted", "value": True}, {"item": "courtesy", "value": 4}],
        **extra,
    }


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def live_server(database_url: str, photo_dir: Path, log: Path, **config):
    """`flask run` in a subprocess on a free loopback port; yields (process, base URL)."""
    port = free_port()
    env = {**os.environ, "SUPERVISION_SQLALCHEMY_DATABASE_URI": database_url,
           "SUPERVISION_SECRET_KEY": "test-secret", "SUPERVISION_PHOTO_DIR": str(photo_dir),
           "SUPERVISION_LOGIN_RATE_LIMIT": "10000 per minute", "FLASK_APP": "supervision",
           **{f"SUPERVISION_{key}": str(value) for key, value in config.items()}}
    command = [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
               "--no-reload", "--no-debugger", "--with-threads"]
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        _wait_until_up(process, port, log)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def worker(app, log: Path, *args, **config):
    """`flask jobs worker` in a subprocess on the app's database, storage and Redis; `config`
    adds SUPERVISION_* settings."""
    env = {**os.environ, "FLASK_APP": "supervision", "SUPERVISION_SECRET_KEY": "test-secret",
           "SUPERVISION_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "SUPERVISION_PHOTO_DIR": app.config["PHOTO_DIR"],
           "SUPERVISION_REDIS_URL": app.config["REDIS_URL"],
           **{f"SUPERVISION_{key}": str(value) for key, value in config.items()}}
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker", *args],
                                   cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        stop(process)


def work_horses(worker_pid: int) -> list[int]:
    """The processes a `flask jobs worker` forked to run its tasks."""
    return [int(pid) for pid in
            Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()]


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL a `flask jobs worker` and then its work horses, as a lost machine would: no one
    is left to notice; wait until all are gone."""
    horses = work_horses(process.pid)
    for pid in (process.pid, *horses):
        os.kill(pid, signal.SIGKILL)
    process.wait()
    wait_until(lambda: all(_gone(pid) for pid in horses), "the killed work horses to go")


def _gone(pid: int) -> bool:
    try:  # an orphan reaped by init, or a zombie waiting for it
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith(("Z", "X"))
    except (FileNotFoundError, ProcessLookupError):
        return True


def _wait_until_up(process, port: int, log: Path) -> None:
    import http.client

    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {DEADLINE} s:\n{log.read_text()}")
