"""Work done after the commit: report renders, photo derivatives, emails, and whatever comes next.

A feature calls `after_commit(queue, "module:function", *args)`; the task is kept on the database
session and handed over when the session commits (a rollback drops it), so no work ever runs on
data that was not committed. TASK_MODE chooses where it runs:

- `thread`: a thread of this process, one per queue (the embedded default);
- `queue`: a `flask jobs worker` process on the Redis queue (REDIS_URL), on any machine; RQ
  forks a fresh work horse per task, so memory a render grows is given back when it ends;
- `inline`: at once, before `commit()` returns (tests).

Every task runs through `run`, inside an app context. A task is named by import path so that this
module imports no feature. `drain()` waits for the threads of this process (tests, benchmarks).
Whether a task is still coming: `queued_here` names those waiting for this process's threads,
`waiting` one waiting in the Redis queue (by the `task_id` it was given).
"""

import importlib
import os
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.utils import now as rq_now
from sqlalchemy import event

from supervision.db import db

QUEUES = ("reports", "photos", "notifications")
# What a `flask jobs worker` also runs on a timer: the setting of its period in seconds (0: never)
# → the task. A task that commits, and that any number of workers may run at once.
PERIODIC = {"ACTION_SWEEP_SECONDS": "supervision.followup.escalation:sweep_task",
            "WEBHOOK_RETRY_SECONDS": "supervision.webhooks.delivery:retry_due"}
MODES = ("thread", "queue", "inline")
RETRIES = 1  # a task whose work horse died, or that raised, runs once more on the Redis queue
PENDING = "tasks_after_commit"  # the key in session.info

_threads: dict[str, ThreadPoolExecutor] = {}
_unfinished = 0  # tasks submitted to the threads and not ended yet
_not_started: Counter = Counter()  # (path, args) of those tasks not started yet
_threads_changed = threading.Condition()
_worker_app: Flask | None = None
# A task in the Redis queue is coming while RQ keeps it there (a retry included).
RQ_WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def after_commit(queue: str, path: str, *args, on_lost: str | None = None,
                 task_id: str | None = None) -> None:
    """Run `path(*args)` once the current transaction commits. `on_lost(*args)` runs when the
    process running the task on the Redis queue died and no retry is left. `task_id` (letters,
    digits, - and _) names the task in the Redis queue, for `waiting`."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    db.session.info.setdefault(PENDING, []).append((queue, path, args, on_lost, task_id))


@event.listens_for(db.session, "after_commit")
def _committed(session) -> None:
    tasks = session.info.pop(PENDING, None)
    if tasks:
        app = current_app._get_current_object()
        for task in tasks:
            _hand_over(app, *task)


@event.listens_for(db.session, "after_transaction_end")
def _ended_transaction(session, transaction) -> None:
    if transaction.parent is None:  # committed (handed over above), rolled back or closed
        session.info.pop(PENDING, None)


def _hand_over(app: Flask, queue: str, path: str, args: tuple, on_lost: str | None,
               task_id: str | None) -> None:
    mode = app.config["TASK_MODE"]
    if mode == "queue" and _enqueue(app, queue, path, args, on_lost, task_id):
        return
    if mode == "inline":  # its own thread, app context and session: the committing session
        with ThreadPoolExecutor(max_workers=1) as thread:  # may emit no SQL at this point
            thread.submit(_run_in_app, app, path, args).result()
        return
    _submit(queue, app, path, args)


def _enqueue(app: Flask, queue: str, path: str, args: tuple, on_lost: str | None,
             task_id: str | None) -> bool:
    """Put the task on the Redis queue; False with Redis down (this process then runs it)."""
    try:
        redis_queue(queue, app).enqueue(run, path, *args, retry=Retry(max=RETRIES),
                                        meta={"on_lost": on_lost}, description=path,
                                        job_id=task_id)
    except RedisError as error:
        app.logger.warning("task %s%r not queued, run in this process: %s", path, args, error)
        return False
    return True


def _submit(queue: str, app: Flask, path: str, args: tuple) -> Future:
    global _unfinished
    with _threads_changed:
        if queue not in _threads:
            _threads[queue] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=queue)
        _unfinished += 1
        _not_started[(path, args)] += 1
        future = _threads[queue].submit(_start, app, path, args)
    future.add_done_callback(_task_ended)
    return future


def _start(app: Flask, path: str, args: tuple):
    with _threads_changed:
        _not_started[(path, args)] -= 1
        if not _not_started[(path, args)]:
            del _not_started[(path, args)]
    return _run_in_app(app, path, args)


def queued_here(path: str) -> list[tuple]:
    """The arguments of the tasks `path` handed to this process's threads, not started yet."""
    with _threads_changed:
        return [args for (queued, args) in _not_started if queued == path]


def waiting(task_id: str, started_within: timedelta, app: Flask | None = None) -> bool:
    """Whether the task `task_id` waits in the Redis queue (a retry of it included), or a worker
    took it less than `started_within` ago; False in other modes, or with Redis down."""
    app = app or current_app
    if app.config["TASK_MODE"] != "queue":
        return False
    try:
        task = RQJob.fetch(task_id, connection=connection(app))
        status = task.get_status()
    except (NoSuchJobError, RedisError):
        return False
    started = status == JobStatus.STARTED and task.started_at is not None
    return status in RQ_WAITING or (started and rq_now() - task.started_at < started_within)


def _task_ended(future: Future) -> None:
    global _unfinished
    with _threads_changed:
        _unfinished -= 1
        _threads_changed.notify_all()


def _run_in_app(app: Flask, path: str, args: tuple):
    with app.app_context():
        try:
            return _call(path, args)
        except Exception:  # the data it worked on was committed before: never undo that
            app.logger.exception("task %s%r failed", path, args)
            return None


def _call(path: str, args: tuple):
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)(*args)
    finally:
        db.session.remove()


def drain() -> None:
    """Block until every task handed to this process's threads has ended, including the tasks
    that those tasks handed over in turn (tests, benchmarks, a CLI command before it exits)."""
    with _threads_changed:
        _threads_changed.wait_for(lambda: _unfinished == 0)


def run(path: str, *args):
    """What a `flask jobs worker` runs for a task: `path(*args)` in the worker's app."""
    with _app().app_context():
        db.engine.dispose(close=False)  # a forked horse must not use its parent's connections
        return _call(path, args)


def _app() -> Flask:
    """The app of this worker: the CLI's own, or one built from the environment (`rq worker`)."""
    global _worker_app
    if _worker_app is None:
        from supervision import create_app

        _worker_app = create_app()
    return _worker_app


def _horse_killed(rq_job, pid, status, rusage) -> None:
    """The process running a task died: once no retry is left, its `on_lost` says so."""
    on_lost = (rq_job.meta or {}).get("on_lost")
    if on_lost and not (rq_job.retries_left or 0):
        with _app().app_context():
            _call(on_lost, tuple(rq_job.args[1:]))
            db.engine.dispose()  # the horses forked from this process start without connections


def connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    if "redis" not in app.extensions:
        app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=3)
    return app.extensions["redis"]


def redis_queue(name: str, app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=connection(app),
                 default_timeout=int(app.config["JOB_TIMEOUT_SECONDS"]))


def init_app(app: Flask) -> None:
    mode = app.config["TASK_MODE"]
    if mode not in MODES:
        raise ValueError(f"TASK_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "queue" and not app.config.get("REDIS_URL"):
        raise ValueError("TASK_MODE=queue needs REDIS_URL")
    if mode == "thread":  # no worker process: the web process runs the periodic tasks
        app.extensions["periodic_lock"] = threading.Lock()
        app.before_request(lambda: _start_periodic_once(app))
    app.cli.add_command(jobs_cli)


def _start_periodic_once(app: Flask) -> None:
    """On a web process's first request (not at import: a CLI command such as `db upgrade`
    must not sweep a database it is migrating)."""
    if "periodic" not in app.extensions and app.extensions["periodic_lock"].acquire(False):
        app.extensions["periodic"] = threading.Event()
        _start_periodic(app, app.extensions["periodic"])


jobs_cli = AppGroup("jobs", help="Tasks on the Redis queue (TASK_MODE=queue).")


@jobs_cli.command("worker")
@click.option("--queue", "names", multiple=True, type=click.Choice(QUEUES),
              help="Queues to take tasks from (all by default); repeat for several.")
@click.option("--max-jobs", type=int, default=None,
              help="Exit after this many tasks, for a supervisor (systemd) to start afresh.")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--nice", type=click.IntRange(0, 19), default=10, show_default=True,
              help="Lower the worker's CPU priority by this much, so that on a shared machine "
                   "the requests people wait for go first (0: as started).")
def worker_command(names, max_jobs, burst, nice):
    """Run tasks from the Redis queue (REDIS_URL) until stopped."""
    global _worker_app
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: tasks run inside the web process.")
    os.nice(nice)  # background renders and photo derivatives yield to the web processes
    _worker_app = current_app._get_current_object()  # forked horses inherit it, ready to use
    _worker_app.config["TASK_MODE"] = "queue"  # a horse ends with its task: no thread of its own
    worker = Worker([redis_queue(name) for name in names or QUEUES], connection=connection(),
                    work_horse_killed_handler=_horse_killed)
    stop = threading.Event()
    if not burst:
        _start_periodic(_worker_app, stop)
    try:
        worker.work(max_jobs=max_jobs, burst=burst, with_scheduler=False,
                    logging_level=current_app.config.get("JOB_LOG_LEVEL", "INFO"))
    finally:
        stop.set()


def _start_periodic(app: Flask, stop: threading.Event) -> None:
    """A thread for each periodic task whose period is set: it runs at once, then every period,
    until `stop` is set (daemon threads: a killed worker takes them along)."""
    for key, path in PERIODIC.items():
        seconds = float(app.config.get(key) or 0)
        if seconds > 0:
            threading.Thread(target=_every, args=(app, stop, seconds, path), daemon=True,
                             name=f"periodic-{key.lower()}").start()


def _every(app: Flask, stop: threading.Event, seconds: float, path: str) -> None:
    while not stop.is_set():
        _run_in_app(app, path, ())  # a failure is logged; the next period tries again
        stop.wait(seconds)
