"""The Redis job queue (RQ), used when REDIS_URL is set: report renders, photo derivatives and
notification emails run in `flask jobs worker` processes on any machine instead of a thread of
the web process.

RQ forks a fresh "work horse" process for every job, so the memory a render grows (WeasyPrint
keeps caches) is given back when the job ends; `--max-jobs` also recycles the worker itself.
A horse that dies (killed, out of memory) gets its job retried once, then marked failed.
"""

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker

from supervision.errors import Unavailable

QUEUES = ("reports", "photos", "notifications")
RETRIES = 1  # a job whose work horse died (or whose email failed) is run once more

jobs_cli = AppGroup("jobs", help="Background jobs on the Redis queue.")
_worker_app: Flask | None = None


def connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    if "redis" not in app.extensions:
        app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=3)
    return app.extensions["redis"]


def queue(name: str, app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=connection(app),
                 default_timeout=int(app.config.get("JOB_TIMEOUT_SECONDS", 600)))


def enqueue_job(job_id: str):
    """Put a committed Job row on the reports queue; a worker runs `worker_task(job_id)`.
    With Redis down the request is refused (503); the job is queued again once it is stale."""
    try:
        return queue("reports").enqueue(worker_task, job_id, retry=Retry(max=RETRIES),
                                        description=f"job {job_id}")
    except RedisError as error:
        current_app.logger.warning("job queue unavailable: %s", error)
        raise Unavailable("The job queue is not available right now; try again shortly.",
                          headers={"Retry-After": "10"}) from error


def enqueue_photo(photo_id):
    """Have a worker make a received photo's derivatives (PHOTO_PROCESSING=queue). The photo is
    already stored and acknowledged: with Redis down it stays `received`, and is processed when
    first shown or by `flask photos process-pending`."""
    try:
        return queue("photos").enqueue(photo_task, str(photo_id), retry=Retry(max=RETRIES),
                                       description=f"photo {photo_id}")
    except RedisError as error:
        current_app.logger.warning("photo %s not queued: %s", photo_id, error)
        return None


def enqueue_emails(notification_ids: list[int]) -> bool:
    """Have workers email committed notifications, each tried once more when the mail server
    fails. False with Redis down: the caller sends them itself."""
    emails = [Queue.prepare_data(email_task, (notification_id,), retry=Retry(max=RETRIES),
                                 description=f"notification {notification_id}")
              for notification_id in notification_ids]
    try:
        queue("notifications").enqueue_many(emails)
    except RedisError as error:
        current_app.logger.warning("notifications %s not queued: %s", notification_ids, error)
        return False
    return True


def _app() -> Flask:
    """The app of this worker: the CLI's own, or one built from the environment (`rq worker`)."""
    global _worker_app
    if _worker_app is None:
        from supervision import create_app

        _worker_app = create_app()
    return _worker_app


def worker_task(job_id: str):
    """What a worker runs for a Job row: `execute` in an app context."""
    from supervision.jobs.services import execute

    with _app().app_context():
        _own_connections()
        return execute(job_id)


def photo_task(photo_id: str) -> str:
    import uuid

    from supervision.visits.photos import process_photo

    with _app().app_context():
        _own_connections()
        return process_photo(uuid.UUID(photo_id))


def email_task(notification_id: int) -> str:
    from supervision.notifications.mail import send

    with _app().app_context():
        _own_connections()
        status = send(notification_id)
    if status == "failed":  # RQ runs it once more (Retry), then keeps it as failed
        raise RuntimeError(f"notification {notification_id} not emailed; see its email_error")
    return status


def _own_connections() -> None:
    """A forked process must not use the database connections its parent opened."""
    from supervision.db import db

    db.engine.dispose(close=False)


def _horse_killed(rq_job, pid, status, rusage) -> None:
    """The process running a job died: once no retry is left, the Job row says so."""
    if rq_job.func_name != f"{__name__}.worker_task" or (rq_job.retries_left or 0) > 0:
        return
    with _app().app_context():
        _mark_lost(rq_job.args[0])


def _mark_lost(job_id: str) -> None:
    from supervision.db import db
    from supervision.jobs.models import Job
    from supervision.notifications.triggers import job_finished

    job = db.session.get(Job, job_id)
    if job is not None and job.status in ("queued", "running"):
        job.status = "failed"
        job.error = "The worker running this job stopped before it finished; ask again."
        job_finished(job)
        db.session.commit()
    db.session.remove()
    db.engine.dispose()  # the horses forked from this process start without connections


def run_worker(names=QUEUES, max_jobs: int | None = None, burst: bool = False) -> None:
    global _worker_app
    _worker_app = current_app._get_current_object()  # forked horses inherit it, ready to use
    queues = [queue(name) for name in names]
    worker = Worker(queues, connection=connection(), work_horse_killed_handler=_horse_killed)
    worker.work(max_jobs=max_jobs, burst=burst, with_scheduler=False,
                logging_level=current_app.config.get("JOB_LOG_LEVEL", "INFO"))


@jobs_cli.command("worker")
@click.option("--queue", "names", multiple=True, type=click.Choice(QUEUES),
              help="Queues to take jobs from (all by default); repeat for several.")
@click.option("--max-jobs", type=int, default=None,
              help="Exit after this many jobs, for a supervisor (systemd) to start afresh.")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker_command(names, max_jobs, burst):
    """Run jobs from the Redis queue (REDIS_URL) until stopped."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inside the web process.")
    run_worker(names or QUEUES, max_jobs, burst)
