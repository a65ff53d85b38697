"""Faults on loopback, bounded in time: the database crashes and restarts while tablets sync;
the object store goes down under a photo upload."""

import json
import threading
import time
import uuid
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from supervision import create_app
from supervision.db import db
from tests.conftest import build_world
from tests.images import picture
from tests.servers import DEADLINE, PostgresCluster, seaweedfs_server, wait_until
from tests.visit_support import VISIT_WORLD, audit_body, live_server, visit_config

PHOTOS = (picture(800, 600), picture(800, 600, color=(20, 160, 60)))  # signage wants two
PHOTO = PHOTOS[0]


# ------------------------------------------------------------------ the database restarts


@pytest.fixture
def cluster():
    pg = PostgresCluster()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


def seed(app) -> tuple[int, dict]:
    """The test checklists, a store and a supervisor on the cluster's database."""
    from tests.visit_support import DATA

    with app.app_context():
        db.create_all()
    world = build_world(app, regions={"east": {"name": "华东"}},
                        stores={"store": {"region": "east", "code": "E1"}},
                        people={"supervisor": ("supervisor", "east")},
                        checklists=(DATA / "audit.yaml",))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return world["store"].id, world["headers"]["supervisor"]


class Tablet:
    """Syncs visits one after the other, sending each request again after a 503."""

    def __init__(self, base: str, headers: dict, store_id: int):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.headers, self.store_id = headers, store_id
        self.statuses, self.unavailable, self.acknowledged, self.failure = [], [], [], None

    def send(self, method: str, path: str, body: bytes, content_type: str) -> dict:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            connection = HTTPConnection(self.host, self.port, timeout=DEADLINE)
            connection.request(method, path, body, {**self.headers, "Content-Type": content_type})
            answer = connection.getresponse()
            payload, status = json.loads(answer.read() or b"{}"), answer.status
            self.statuses.append(status)
            if status != 503:
                connection.close()
                return payload
            self.unavailable.append((payload, answer.getheader("Retry-After")))
            connection.close()
            time.sleep(0.2)
        raise AssertionError(f"{method} {path} was refused for {DEADLINE} s")

    def sync(self) -> None:
        visit_id, photo_ids = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in PHOTOS]
        body = audit_body(self.store_id, photos=[(p, "signage") for p in photo_ids])
        path = f"/api/v1/visits/{visit_id}"
        self.send("PUT", path, json.dumps(body).encode(), "application/json")
        for photo_id, data in zip(photo_ids, PHOTOS, strict=True):
            self.send("PUT", f"{path}/photos/{photo_id}?item=signage", data, "image/jpeg")
        visit = self.send("POST", f"{path}/submit", b"", "application/json")
        assert visit["status"] == "published", visit
        self.acknowledged.append((visit_id, photo_ids))

    def run(self, visits: int) -> None:
        try:
            for _ in range(visits):
                self.sync()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.failure = error


def test_a_database_crash_during_sync_is_a_clean_503_and_nothing_acknowledged_is_lost(
        cluster, tmp_path):
    config = visit_config(cluster.url, tmp_path)
    app = create_app(config)
    store_id, headers = seed(app)
    with live_server(cluster.url, tmp_path / "photos", tmp_path / "server.log",
                     TASK_MODE="inline") as (_, base):
        tablets = [Tablet(base, headers, store_id) for _ in range(3)]
        threads = [threading.Thread(target=t.run, args=(6,)) for t in tablets]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(len(t.acknowledged) for t in tablets) >= 3,
                   "three acknowledged visits")
        cluster.crash()
        time.sleep(1.5)  # the tablets keep syncing against a dead database meanwhile
        cluster.start()
        for thread in threads:
            thread.join(timeout=DEADLINE)
            assert not thread.is_alive(), "a tablet is still syncing"
    assert [t.failure for t in tablets] == [None] * 3
    statuses = [s for t in tablets for s in t.statuses]
    assert set(statuses) <= {200, 201, 503}, (tmp_path / "server.log").read_text()[-3000:]
    refusals = [r for t in tablets for r in t.unavailable]
    assert refusals, "no request arrived while the database was down"
    assert all(p["code"] == 503 and "database" in p["message"] and after for p, after in refusals)
    acknowledged = [pair for t in tablets for pair in t.acknowledged]
    assert len(acknowledged) == 18
    _assert_kept(app, acknowledged)


def _assert_kept(app, acknowledged) -> None:
    from supervision.visits.models import Photo, Visit

    with app.app_context():
        visits = {v.id: v for v in db.session.scalars(select(Visit))}
        for visit_id, photo_ids in acknowledged:
            visit = visits[uuid.UUID(visit_id)]
            assert visit.status == "published" and len(visit.responses) == 5
            for photo_id, data in zip(photo_ids, PHOTOS, strict=True):
                photo = db.session.get(Photo, uuid.UUID(photo_id))
                assert photo.status in ("received", "processed")
                assert photo.size_bytes == len(data)
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------ the object store is down


@pytest.fixture
def object_store():
    """A SeaweedFS of this test's own, so that the test can stop it."""
    with seaweedfs_server() as settings:
        yield settings


@pytest.fixture
def app_config(database_url, tmp_path, object_store):
    s3 = {k: v for k, v in object_store.items() if k.startswith("S3_")}
    return visit_config(database_url, tmp_path, STORAGE_BACKEND="s3", S3_BUCKET="photos", **s3)


@pytest.fixture
def world(app, make_world):
    with app.app_context():
        app.extensions["storage"].create_bucket()
    return make_world(**VISIT_WORLD)


def test_with_the_object_store_down_uploads_are_refused_and_nothing_half_written_is_kept(
        app, client, world, object_store):
    headers = world["headers"]["supervisor"]
    visit_id, first, second = (str(uuid.uuid4()) for _ in range(3))
    body = audit_body(world["store"].id, photos=[(first, "signage"), (second, "signage")])
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    photos = f"/api/v1/visits/{visit_id}/photos"
    image = {**headers, "Content-Type": "image/jpeg"}
    stored = client.put(f"{photos}/{first}?item=signage", data=PHOTO, headers=image)
    assert stored.status_code == 201 and stored.json["status"] == "processed"
    thumb = client.get(f"{photos}/{first}?size=thumb", headers=headers)
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    thumb.close()

    object_store["_process"].kill()  # the object store crashes
    object_store["_process"].wait()
    refused = client.put(f"{photos}/{second}?item=signage", data=picture(900, 700), headers=image)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.json["code"] == 503 and "storage" in refused.json["message"]
    visit = client.get(f"/api/v1/visits/{visit_id}", headers=headers).json
    states = {p["id"]: p["status"] for p in visit["photos"]}
    assert states == {first: "processed", second: "announced"}
    assert visit["missing_photos"] == [second]
    assert list(app.extensions["storage"].spool_dir.iterdir()) == []
    assert client.get(f"{photos}/{first}?size=thumb", headers=headers).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["storage"] == "failing"
