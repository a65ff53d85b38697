"""Work after the commit (supervision/tasks.py): handed over on commit, dropped on rollback, run
in a thread, inline, or on the Redis queue, and awaited by one drain()."""

import ast
import threading
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from supervision import tasks
from supervision.db import db
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
RAN: list = []


def remember(value) -> None:
    """A task: what it ran with, and whether it ran in its own app context and session."""
    RAN.append((value, threading.current_thread().name, db.session.info.get("marker")))


def hand_over_another(value) -> None:
    """A task that hands over a task in turn, as a finished job hands over its email."""
    tasks.after_commit("notifications", "tests.test_tasks:remember", value + 1)
    db.session.commit()


@pytest.fixture(autouse=True)
def fresh():
    RAN.clear()
    yield
    tasks.drain()


def committed(app, path="tests.test_tasks:remember", value=1, commit=True) -> None:
    with app.app_context():
        db.session.info["marker"] = "the request's session"
        tasks.after_commit("reports", path, value)
        assert RAN == []  # nothing runs before the commit
        db.session.commit() if commit else db.session.rollback()


@pytest.mark.parametrize("mode", ["inline", "thread"])
def test_a_task_runs_after_the_commit_in_its_own_session(app, mode):
    app.config["TASK_MODE"] = mode
    committed(app)
    tasks.drain()
    [(value, thread, marker)] = RAN
    assert (value, marker) == (1, None)
    assert thread != threading.current_thread().name


def test_a_rollback_drops_the_task(app):
    committed(app, commit=False)
    with app.app_context():
        db.session.commit()  # a later commit does not bring it back
    tasks.drain()
    assert RAN == []


def test_inline_work_is_done_when_the_commit_returns(app):
    committed(app)
    assert [value for value, *_ in RAN] == [1]


def test_drain_waits_for_the_tasks_that_tasks_hand_over(app):
    app.config["TASK_MODE"] = "thread"
    committed(app, "tests.test_tasks:hand_over_another", 1)
    tasks.drain()
    assert [value for value, *_ in RAN] == [2]


def test_a_failing_task_never_undoes_the_commit(app, make_region):
    committed(app, "tests.test_tasks:no_such_task")  # logged; the commit stands
    region = make_region("NORTH")
    assert region.id is not None


def test_with_redis_a_task_is_queued_by_its_import_path(app, redis_url):
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    app.config.update(TASK_MODE="queue", REDIS_URL=redis_url)
    committed(app, value=7)
    [job] = Queue("reports", connection=connection).get_jobs()
    assert (job.func_name, job.args) == ("supervision.tasks.run", ("tests.test_tasks:remember", 7))
    assert job.retries_left == tasks.RETRIES
    assert RAN == []  # a worker runs it (tests/test_jobs_redis.py, test_notifications.py)


def test_with_redis_down_the_task_runs_in_this_process(app):
    app.config.update(TASK_MODE="queue", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    app.extensions.pop("redis", None)
    committed(app, value=3)
    tasks.drain()
    assert [value for value, *_ in RAN] == [3]


@pytest.mark.parametrize(("config", "problem"), [
    ({"TASK_MODE": "sometimes"}, "TASK_MODE must be one of thread, queue, inline"),
    ({"TASK_MODE": "queue"}, "TASK_MODE=queue needs REDIS_URL"),
])
def test_a_wrong_task_mode_stops_the_app_at_start(app_config, config, problem):
    from supervision import create_app

    with pytest.raises(ValueError, match=problem):
        create_app({**app_config, **config})


def test_the_task_module_imports_no_feature():
    tree = ast.parse((ROOT / "supervision" / "tasks.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    ours = {name for name in imported if name.startswith("supervision")}
    assert ours <= {"supervision", "supervision.db"}
