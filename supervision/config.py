"""Configuration defaults; each can be overridden by an environment variable."""

import os

# Every key below can be set from the environment as SUPERVISION_<KEY> (values parsed as JSON
# when they look like JSON). DATABASE_URL, SECRET_KEY and REDIS_URL are also read unprefixed,
# the names hosting platforms use.


class Defaults:
    # SQLite in the instance folder unless DATABASE_URL names another database.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Generated once and kept in the instance folder when not given, so sessions survive restarts.
    SECRET_KEY: str | None = None
    # Where photos and rendered reports live on the embedded default.
    PHOTO_DIR: str | None = None
    # Bearer tokens live long: a tablet may stay offline for days and must still sync.
    TOKEN_MAX_AGE_SECONDS = 30 * 24 * 3600
    # Limits on request bodies: JSON documents and photo uploads.
    JSON_MAX_BYTES = 8 * 1024 * 1024
    PHOTO_MAX_BYTES = 40 * 1024 * 1024
    # The largest phone photos pass: 48 MP (iPhone, 8064×6048) and 50 MP modes (up to 8192×6144
    # = 50.3 MP); 64–200 MP modes do not. Nothing larger is decoded: one decode is 3 bytes a
    # pixel (156 MB at the limit), and the PWA shrinks photos to 2000 px before sending anyway.
    PHOTO_MAX_PIXELS = 52_000_000
    # Where photo files and reports go: "local" (PHOTO_DIR) or "s3" (an S3-compatible store).
    STORAGE_BACKEND = "local"
    S3_ENDPOINT_URL: str | None = None  # None: AWS itself
    S3_PUBLIC_ENDPOINT_URL: str | None = None  # the host browsers reach, for presigned URLs
    S3_BUCKET: str | None = None
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: str | None = None
    S3_REGION = "us-east-1"
    S3_SERVE = "proxy"  # "proxy": stream through the app; "redirect": 302 to a presigned URL
    S3_URL_EXPIRES = 300
    # Where work after the commit runs (report renders, photo derivatives, emails): "thread" (a
    # thread of this process), "queue" (`flask jobs worker` processes on the Redis queue at
    # REDIS_URL, on any machine) or "inline" (before the commit returns: tests).
    TASK_MODE = "thread"
    # Login attempts per client address; shared through Redis when REDIS_URL is set.
    LOGIN_RATE_LIMIT = "10 per minute"
    REDIS_URL: str | None = None
    # Notifications are emailed through this SMTP server after their transaction commits (as
    # TASK_MODE says); None: in-app only.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS once connected
    MAIL_USERNAME: str | None = None  # logs in only when set
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "supervision@localhost"
    # The address users reach the app at (https://supervision.example.com): emails end with a
    # link under it to what they are about. Empty: no link (a worker knows no request's host).
    PUBLIC_URL = ""
    # Reverse proxies in front of the app (X-Forwarded-For/-Proto trusted from that many hops);
    # without it every client would share the proxy's address, and its login limit.
    PROXY_COUNT = 0
    # The languages in which a visit's reports are rendered in the background when it is
    # submitted or published (the first download is then a cache hit); () renders on demand.
    REPORT_PRERENDER = ("zh", "en")
    # A background job (report render) running longer than this is stopped and marked failed.
    JOB_TIMEOUT_SECONDS = 600
    # Whoever runs a job writes its heartbeat this often. A job not heard of for the timeout
    # (and not waiting in the Redis queue) died with its worker: the next reader runs it once
    # more, then fails it; well under the minute a person waits at the download button.
    JOB_HEARTBEAT_SECONDS = 5
    JOB_HEARTBEAT_TIMEOUT_SECONDS = 30
    # How often a `flask jobs worker` (or, with TASK_MODE=thread, the web process) reminds the
    # stores of actions due and escalates overdue ones (each step is notified once, whoever
    # sweeps); 0: never (cron `flask actions sweep`).
    ACTION_SWEEP_SECONDS = 300
    # Audit plans' due visits are generated this many days ahead (the same sweep extends them
    # and marks the late ones overdue, then missed).
    PLAN_HORIZON_DAYS = 62
    # Webhooks (docs/webhooks.md). Deliveries go only to the URLs admins registered, over HTTPS,
    # and never to a private, loopback or link-local address unless it lies in one of these
    # networks (CIDR, e.g. ["10.20.0.0/16"]): an operator's choice, for a receiver in its own
    # network (plain HTTP is then allowed too).
    WEBHOOK_ALLOWED_NETWORKS: tuple = ()
    # Seconds before each retry of a delivery that met a connection error, a 5xx or a 429; it
    # fails for good after the last. A hook whose deliveries failed for good this many times in
    # a row is disabled, and the admins are told.
    WEBHOOK_RETRY_DELAYS = (10, 60, 300, 1800, 7200)
    WEBHOOK_DISABLE_AFTER = 5
    WEBHOOK_TIMEOUT_SECONDS = 10
    # How often a `flask jobs worker` (or the web process with TASK_MODE=thread) sends the
    # retries that are due, and any delivery whose after-commit task was lost; 0: never.
    WEBHOOK_RETRY_SECONDS = 10
    RATELIMIT_HEADERS_ENABLED = True
    # Demo password for `flask demo seed`.
    DEMO_PASSWORD = "demo1234"
    # The time zone (IANA name) of the days people type and read where no single store's own
    # zone applies: query days of lists and exports, the audit log, region reports; and the
    # zone a new store gets when none is given. Each store keeps its own for its visits.
    TIMEZONE = "Asia/Shanghai"
    # Languages of the UI and the reports; the first is the default.
    LANGUAGES = ("zh", "en")
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_TRANSLATION_DIRECTORIES = "translations"

    # flask-smorest / OpenAPI
    API_TITLE = "Supervision API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a supervisor may keep a form open all day


def load_environment(config: dict) -> None:
    """Copy the unprefixed environment variables that hosting platforms use."""
    for env_name, key in (
        ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
        ("SECRET_KEY", "SECRET_KEY"),
        ("REDIS_URL", "REDIS_URL"),
    ):
        if os.environ.get(env_name):
            config[key] = os.environ[env_name]
    if os.environ.get("SUPERVISION_DEMO_PASSWORD"):
        config["DEMO_PASSWORD"] = os.environ["SUPERVISION_DEMO_PASSWORD"]


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
