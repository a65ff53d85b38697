"""The storage contract, run against the local folder and a real SeaweedFS S3 gateway."""

import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from flask import Flask, request

from supervision.errors import NotFound, Unavailable
from supervision.storage import LocalStorage
from supervision.storage_s3 import S3Storage
from tests.servers import DEADLINE, wait_until

BACKENDS = ["local", "s3"]


def s3_storage(s3_settings, photo_dir, bucket=None, **extra) -> S3Storage:
    config = {**{k: v for k, v in s3_settings.items() if k.startswith("S3_")},
              "S3_BUCKET": bucket or f"t-{uuid.uuid4().hex[:12]}", "PHOTO_DIR": str(photo_dir),
              **extra}
    return S3Storage(config)


@pytest.fixture
def flask_app():
    return Flask("contract")


@pytest.fixture(params=BACKENDS)
def storage(request, tmp_path, flask_app):
    with flask_app.app_context():
        if request.param == "local":
            yield LocalStorage(tmp_path / "store")
        else:
            store = s3_storage(request.getfixturevalue("s3_settings"), tmp_path / "spool")
            store.create_bucket()
            yield store


def put_bytes(storage, key: str, data: bytes) -> None:
    path = storage.spool_file()
    path.write_bytes(data)
    storage.put_file(key, path)
    assert not path.exists(), "put_file consumes the spooled file"


def test_put_open_exists_delete(storage):
    assert not storage.exists("originals/ab/abc")
    put_bytes(storage, "originals/ab/abc", b"first")
    put_bytes(storage, "originals/ab/abc", b"second version")
    assert storage.exists("originals/ab/abc")
    with storage.open("originals/ab/abc") as stored:
        assert stored.read() == b"second version"
    storage.delete("originals/ab/abc")
    storage.delete("originals/ab/abc")  # nothing happens the second time
    assert not storage.exists("originals/ab/abc")
    with pytest.raises(FileNotFoundError):
        storage.open("originals/ab/abc")


def test_keys_lists_one_prefix_with_times(storage):
    started = time.time()
    for key in ("originals/aa/one", "originals/bb/two", "original/aa/one.jpg", "thumb/x.jpg"):
        put_bytes(storage, key, key.encode())
    listed = dict(storage.keys("originals"))
    assert sorted(listed) == ["originals/aa/one", "originals/bb/two"]
    assert all(started - 5 < mtime < time.time() + 5 for mtime in listed.values())
    assert list(storage.keys("display")) == []


def test_a_failed_put_leaves_nothing(storage, tmp_path):
    with pytest.raises(OSError):
        storage.put_file("originals/cc/never", tmp_path / "no-such-upload")
    assert not storage.exists("originals/cc/never")
    assert list(storage.keys("originals")) == []


def test_readers_see_a_whole_version_while_it_is_replaced(storage):
    size, versions = 2 * 1024 * 1024, (b"a", b"b")
    put_bytes(storage, "display/big.jpg", versions[0] * size)
    done, seen = threading.Event(), set()

    def writer():
        with Flask("writer").app_context():
            for n in range(6):
                put_bytes(storage, "display/big.jpg", versions[n % 2] * size)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        with storage.open("display/big.jpg") as stored:
            content = stored.read()
        assert len(content) == size and content.count(content[:1]) == size
        seen.add(content[:1])
    thread.join()
    assert seen <= set(versions)


def test_check_says_whether_a_write_would_work(storage):
    assert storage.check() is True


def test_send_answers_the_bytes_and_revalidates(storage, flask_app):
    put_bytes(storage, "thumb/ab/photo.jpg", b"\xff\xd8jpeg bytes")
    with flask_app.test_request_context("/"):
        # As the report download does: conditional again on top of what the storage answered.
        response = storage.send("thumb/ab/photo.jpg", "image/jpeg", "etag-1")
        response = response.make_conditional(request)
        response.direct_passthrough = False
        assert response.status_code == 200 and response.get_data() == b"\xff\xd8jpeg bytes"
        assert response.mimetype == "image/jpeg" and response.get_etag()[0] == "etag-1"
        assert response.cache_control.private
        response.close()
    with flask_app.test_request_context("/", headers={"If-None-Match": '"etag-1"'}):
        response = storage.send("thumb/ab/photo.jpg", "image/jpeg", "etag-1")
        assert response.status_code == 304
        response.close()


def test_s3_redirects_to_a_short_lived_signed_url(s3_settings, tmp_path, flask_app):
    with flask_app.app_context():
        store = s3_storage(s3_settings, tmp_path, S3_SERVE="redirect", S3_URL_EXPIRES=10)
        store.create_bucket()
        put_bytes(store, "display/ab/p.jpg", b"\xff\xd8signed")
        with flask_app.test_request_context("/"):
            response = store.send("display/ab/p.jpg", "image/jpeg", "e")
    assert response.status_code == 302 and "no-store" in response.headers["Cache-Control"]
    url = response.headers["Location"]
    assert "X-Amz-Signature=" in url and url.startswith(s3_settings["S3_ENDPOINT_URL"])
    with urllib.request.urlopen(url, timeout=10) as fetched:
        assert fetched.read() == b"\xff\xd8signed"
        assert fetched.headers["Content-Type"] == "image/jpeg"
    unsigned = url.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    wait_until(lambda: _refused(url) == 403, "the signed URL to expire", every=0.5)


def _refused(url: str) -> int | None:
    """The HTTP error status of fetching `url`, or None when it is served."""
    try:
        with urllib.request.urlopen(url, timeout=DEADLINE):
            return None
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_s3_missing_object_is_404_and_a_dead_store_is_503(s3_settings, tmp_path, flask_app):
    with flask_app.app_context():
        store = s3_storage(s3_settings, tmp_path)
        store.create_bucket()
        with flask_app.test_request_context("/"), pytest.raises(NotFound):
            store.send("thumb/none.jpg", "image/jpeg", "e")
        dead = s3_storage({**s3_settings, "S3_ENDPOINT_URL": "http://127.0.0.1:9"}, tmp_path)
        assert dead.check() is False
        with pytest.raises(Unavailable) as refused:
            put_bytes(dead, "originals/dd/x", b"x")
        assert refused.value.code == 503 and refused.value.headers["Retry-After"]
        assert s3_storage(s3_settings, tmp_path, bucket="no-such-bucket").check() is False
