"""Background jobs that someone follows (a region report): a Job row with progress and result,
run after the commit by the task module (supervision/tasks.py) as `execute(job_id)`."""

import importlib
from collections.abc import Callable
from datetime import timedelta

from flask import current_app

from supervision import tasks
from supervision.db import db, utcnow
from supervision.errors import DomainError, NotFound
from supervision.jobs.models import Job
from supervision.notifications import triggers as notifications
from supervision.scoping import get_region

# kind → "module:function(job, progress) -> result key". One function per kind.
RUNNERS = {"region_report": "supervision.reports.services:run_region_report"}
# A queued or running job not heard of for this long died with its process: run it again.
STALE_AFTER = timedelta(minutes=10)
ACTIVE = ("queued", "running")


def enqueue(kind: str, job_id: str, params: dict, user) -> tuple[Job, bool]:
    """The job `job_id` (ids are derived from the work, so the same work is one job), queued
    again unless it is already under way; returns (job, fresh). It starts when the caller
    commits."""
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
    tasks.after_commit("reports", f"{__name__}:execute", job_id, on_lost=f"{__name__}:mark_lost")
    return job, True


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


def mark_lost(job_id: str) -> None:
    """The process running the job died and no retry is left: the Job row says so."""
    job = db.session.get(Job, job_id)
    if job is not None and job.status in ACTIVE:
        job.status = "failed"
        job.error = "The worker running this job stopped before it finished; ask again."
        notifications.job_finished(job)
        db.session.commit()


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
