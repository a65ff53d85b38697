"""Background jobs: one function per kind, run in this process by a thread pool (the embedded
default); a Redis queue worker can later call `execute(job_id)` inside an app context."""

import importlib
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta

from flask import Flask, current_app

from supervision import background
from supervision.scoping import get_region
from supervision.db import db, utcnow
from supervision.errors import DomainError, NotFound
from supervision.jobs.models import Job
from supervision.notifications import triggers as notifications

# kind → "module:function(job, progress) -> result key". One function per kind.
RUNNERS = {"region_report": "supervision.reports.services:run_region_report"}
# A queued or running job not heard of for this long died with its process: run it again.
STALE_AFTER = timedelta(minutes=10)
ACTIVE = ("queued", "running")



def enqueue(kind: str, job_id: str, params: dict, user) -> tuple[Job, bool]:
    """The job `job_id` (ids are derived from the work, so the same work is one job), queued
    again unless it is already under way; returns (job, fresh). The caller commits, then
    calls `start(job.id)` when fresh."""
    if kind not in RUNNERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = db.session.get(Job, job_id)
    if job is not None and job.status in ACTIVE and utcnow() - job.updated_at < STALE_AFTER:
        return job, False
    if job is None:
        job = Job(id=job_id, kind=kind)
        db.session.add(job)
    job.params, job.status, job.progress = params, "queued", 0
    job.error, job.result_key, job.created_by_id = None, None, getattr(user, "id", None)
    job.updated_at = utcnow()
    db.session.flush()
    return job, True


def start(job_id: str) -> Future:
    """Run the committed job in the background of this process, or on the Redis queue."""
    if current_app.config.get("REDIS_URL"):
        from supervision.jobs.queue import enqueue_job

        return enqueue_job(job_id)
    app = current_app._get_current_object()
    return background.submit("jobs", _run_in_app, app, job_id)


def wait_for_jobs() -> None:
    """Block until every job started in this process has finished (tests, the bench)."""
    background.drain("jobs")


def _run_in_app(app: Flask, job_id: str) -> str | None:
    with app.app_context():
        return execute(job_id)


def execute(job_id: str) -> str | None:
    """Run one job to its end, recording progress, the result or the error; commits."""
    job = db.session.get(Job, job_id)
    if job is None or job.status == "done":
        return job.result_key if job else None
    job.status, job.progress = "running", 5
    db.session.commit()
    try:
        key = _runner(job.kind)(job, lambda percent: _progress(job_id, percent))
    except Exception as error:  # any failure is the job's result, shown to whoever follows it
        current_app.logger.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        return _finish(job_id, "failed", error=_describe(error))
    return _finish(job_id, "done", key=key)


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
