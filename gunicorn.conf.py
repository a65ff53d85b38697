"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "supervision:create_app()"`.

Every value can be overridden from the environment (GUNICORN_WORKERS=…) or on the command line.
Sizing: see docs/deploy.md.
"""

import gc
import multiprocessing
import os


def _env(name: str, default):
    return type(default)(os.environ.get(f"GUNICORN_{name}", default))


bind = _env("BIND", "127.0.0.1:8000")  # behind the reverse proxy, never exposed directly
# Requests spend most of their time waiting on the disk, the database or the object store
# (photo bodies stream at the client's pace): threads overlap that waiting; processes use the
# cores. Two processes per core with 4 threads each measured best on 2 cores (docs/performance.md).
workers = _env("WORKERS", 2 * multiprocessing.cpu_count())
threads = _env("THREADS", 4)
worker_class = "gthread"
# Recycle each process after a while (jitter so they do not restart together): memory kept
# by Pillow and WeasyPrint (an inline preview) is given back.
max_requests = _env("MAX_REQUESTS", 2000)
max_requests_jitter = _env("MAX_REQUESTS_JITTER", 200)
# A 40 MB photo over a slow mobile link takes a while; the proxy buffers most of it.
timeout = _env("TIMEOUT", 120)
graceful_timeout = _env("GRACEFUL_TIMEOUT", 30)
keepalive = _env("KEEPALIVE", 5)
# The app is imported once and forked: less memory, faster restarts of workers.
preload_app = True
# The reverse proxy sets X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def post_fork(server, worker):
    """Connections opened before the fork (preload_app) must not be shared between processes."""
    from supervision.db import db

    app = server.app.wsgi()
    if "sqlalchemy" in getattr(app, "extensions", {}):
        with app.app_context():
            db.engine.dispose(close=False)


def when_ready(server):
    """In the master, after the app is preloaded and before any worker forks: the objects made
    by the imports live forever, so keep them out of the collector's sight. A full collection
    then pauses a request ≈ 1 ms instead of ≈ 70 ms, and the forked pages stay shared."""
    gc.freeze()
