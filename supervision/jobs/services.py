"""Background jobs that someone follows (a region report): a Job row with progress and result,
run after the commit by the task module (supervision/tasks.py) as `execute(job_id)`.

Whoever runs a job writes its heartbeat every JOB_HEARTBEAT_SECONDS (and that of the jobs
queued behind it on this process's threads). A queued or running job not heard of for
JOB_HEARTBEAT_TIMEOUT_SECONDS — no heartbeat, no progress, and not waiting in the Redis queue
— died with its worker: whoever reads it next runs it once more, then fails it (`follow`);
asking for the work again (`enqueue`) runs it afresh."""

import importlib
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from supervision import tasks
from supervision.db import db, utcnow
from supervision.errors import DomainError, NotFound
from supervision.jobs.models import Job
from supervision.notifications import triggers as notifications
from supervision.scoping import get_region

# kind → "module:function(job, progress) -> result key". One function per kind.
RUNNERS = {"region_report": "supervision.reports.services:run_region_report"}
ACTIVE = ("queued", "running")
EXECUTE = f"{__name__}:execute"
# The error of a job running again after its worker died; a job that dies with it fails.
RUNS_AGAIN = "The worker running this job stopped; the job runs once more."
LOST = "The worker running this job stopped before it finished; ask again."


def enqueue(kind: str, job_id: str, params: dict, user) -> tuple[Job, bool]:
    """The job `job_id` (ids are derived from the work, so the same work is one job), queued
    again unless it is already under way; returns (job, fresh). It starts when the caller
    commits."""
    if kind not in RUNNERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = db.session.get(Job, job_id)
    if job is not None and job.status in ACTIVE and _alive(job):
        return job, False
    if job is None:
        job = Job(id=job_id, kind=kind)
        db.session.add(job)
    job.params, job.error, job.result_key = params, None, None
    job.created_by_id = getattr(user, "id", None)
    _queue(job)
    return job, True


def follow(user, job_id: str) -> Job:
    """The job for someone following it; one whose worker died runs once more, then fails.
    The caller commits."""
    job = get_job(user, job_id)
    if job.status in ACTIVE and not _alive(job):
        current_app.logger.warning("job %s: its worker stopped (last heard of at %s)", job.id,
                                   job.heartbeat_at or job.updated_at)
        if job.error == RUNS_AGAIN:
            _lost(job)
        else:
            job.error = RUNS_AGAIN
            _queue(job)
    return job


def _queue(job: Job) -> None:
    job.status, job.progress, job.heartbeat_at = "queued", 0, None
    job.updated_at = utcnow()
    db.session.flush()
    tasks.after_commit("reports", EXECUTE, job.id, on_lost=f"{__name__}:mark_lost",
                       task_id=_task_id(job.id))


def _task_id(job_id: str) -> str:
    return f"job-{job_id}"


def _alive(job: Job) -> bool:
    """Whether a queued or running job was heard of lately (its heartbeat, or any write), or
    waits in the Redis queue however long (a busy queue is no dead worker)."""
    limit = timedelta(seconds=float(current_app.config["JOB_HEARTBEAT_TIMEOUT_SECONDS"]))
    heard = max(job.updated_at, job.heartbeat_at or job.updated_at)
    return utcnow() - heard < limit or tasks.waiting(_task_id(job.id), limit)


def execute(job_id: str) -> str | None:
    """Run one job to its end, recording progress, the result or the error; commits."""
    job = db.session.get(Job, job_id)
    if job is None or job.status == "done":
        return job.result_key if job else None
    job.status, job.progress, job.heartbeat_at = "running", 5, utcnow()
    db.session.commit()
    try:
        with _heartbeat(job_id):
            key = _runner(job.kind)(job, lambda percent: _progress(job_id, percent))
    except Exception as error:  # any failure is the job's result, shown to whoever follows it
        current_app.logger.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        return _finish(job_id, "failed", error=_describe(error))
    return _finish(job_id, "done", key=key)


@contextmanager
def _heartbeat(job_id: str):
    """Beat for the job on a thread of its own while the block runs; stopped and joined after."""
    app, stop = current_app._get_current_object(), threading.Event()
    beating = threading.Thread(target=_beat, args=(app, job_id, stop), daemon=True,
                               name=f"job-heartbeat-{job_id[:12]}")
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


def _beat(app: Flask, job_id: str, stop: threading.Event) -> None:
    every = float(app.config["JOB_HEARTBEAT_SECONDS"])
    with app.app_context():
        while not stop.wait(every):
            # The jobs queued behind this one on this process's thread are alive as well.
            ids = [job_id, *(args[0] for args in tasks.queued_here(EXECUTE))]
            try:
                with db.engine.begin() as connection:
                    connection.execute(update(Job).where(Job.id.in_(ids), Job.status.in_(ACTIVE))
                                       .values(heartbeat_at=utcnow()))
            except SQLAlchemyError as error:  # the next beat may pass; the job goes on
                app.logger.warning("job %s: heartbeat not written: %s", job_id, error)


def mark_lost(job_id: str) -> None:
    """The process running the job died and no retry is left: the Job row says so."""
    job = db.session.get(Job, job_id)
    if job is not None and job.status in ACTIVE:
        _lost(job)
        db.session.commit()


def _lost(job: Job) -> None:
    job.status, job.error = "failed", LOST
    notifications.job_finished(job)


def _runner(kind: str) -> Callable:
    module, _, name = RUNNERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def _progress(job_id: str, percent: int) -> None:
    job = db.session.get(Job, job_id)
    job.progress = max(job.progress, min(99, int(percent)))
    db.session.commit()


def _finish(job_id: str, status: str, key: str | None = None, error: str | None = None):
    job = db.session.get(Job, job_id)
    job.status, job.result_key, job.error = status, key, error
    job.progress = 100 if status == "done" else job.progress
    notifications.job_finished(job)
    db.session.commit()
    return key


def _describe(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    return (f"{type(error).__name__}: the report could not be rendered; try again or tell "
            "an administrator.")


def get_job(user, job_id: str) -> Job:
    """A job its creator, an administrator, or a manager of the job's region may follow."""
    job = db.session.get(Job, job_id)
    if job is None or not _may_see(user, job):
        raise NotFound(f"Job {job_id} not found.")
    return job


def _may_see(user, job: Job) -> bool:
    if user.role == "admin" or job.created_by_id == user.id:
        return True
    region_id = (job.params or {}).get("region_id")
    if region_id is None or user.role != "manager":
        return False
    try:
        get_region(user, region_id)
    except NotFound:
        return False
    return True


def job_document(job: Job) -> dict:
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
        "error": job.error, "created_at": job.created_at, "updated_at": job.updated_at,
        "result_url": (job.params or {}).get("url") if job.status == "done" else None,
    }
