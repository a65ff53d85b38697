"""Photo and report storage in an S3-compatible object store (AWS S3, SeaweedFS, MinIO, Ceph…).

Chosen with STORAGE_BACKEND=s3. A PUT of an object is atomic in S3: readers see the whole
object or nothing, so a failed upload leaves nothing behind. Any failure of the object store
becomes `Unavailable` (503 with Retry-After): the client keeps its data and tries again.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, current_app, redirect, request

from supervision.errors import NotFound, Unavailable
from supervision.storage import SPOOL, Storage

CHUNK = 256 * 1024
MISSING = {"404", "NoSuchKey", "NotFound"}
RETRY_AFTER = {"Retry-After": "10"}


@contextmanager
def _translated(key: str = ""):
    """Object-store failures as our errors: a missing key is FileNotFoundError, the rest 503."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in MISSING:
            raise FileNotFoundError(key) from error
        current_app.logger.warning("object store error on %r: %s", key, error)
        raise Unavailable("The photo storage is not available right now; try again shortly.",
                          headers=RETRY_AFTER) from error
    except BotoCoreError as error:  # connection refused, timeouts, …
        current_app.logger.warning("object store unreachable on %r: %s", key, error)
        raise Unavailable("The photo storage is not available right now; try again shortly.",
                          headers=RETRY_AFTER) from error


class S3Storage(Storage):
    """Objects in one bucket; uploads are spooled to a local folder first (PHOTO_DIR/.spool)."""

    def __init__(self, config: dict):
        super().__init__(Path(config["PHOTO_DIR"]) / SPOOL)
        self.bucket = config["S3_BUCKET"]
        self.url_expires = int(config.get("S3_URL_EXPIRES", 300))
        self.serve = config.get("S3_SERVE", "proxy")
        self.client = _client(config, config.get("S3_ENDPOINT_URL"))
        # Presigned URLs must name the host browsers reach, which may differ from ours.
        public = config.get("S3_PUBLIC_ENDPOINT_URL")
        self.signer = _client(config, public) if public else self.client

    def create_bucket(self) -> None:
        """Create the bucket unless it exists (first deployment, tests)."""
        with _translated(self.bucket):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self.client.create_bucket(Bucket=self.bucket)

    def put_file(self, key: str, path: str | Path) -> None:
        with _translated(key), open(path, "rb") as body:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        Path(path).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        # A seekable local copy: Pillow and WeasyPrint seek in what they read.
        copy = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, dir=self.spool_dir)
        try:
            with _translated(key):
                self.client.download_fileobj(self.bucket, key, copy)
        except BaseException:
            copy.close()
            raise
        copy.seek(0)
        return copy

    def exists(self, key: str) -> bool:
        try:
            with _translated(key):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        with _translated(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2")
        with _translated(prefix):
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix.rstrip("/") + "/"):
                for item in page.get("Contents", ()):
                    yield item["Key"], item["LastModified"].timestamp()

    def send(self, key: str, mimetype: str, etag: str) -> Response:
        """Stream the object through this process (S3_SERVE=proxy, the default) or redirect to a
        presigned URL valid for S3_URL_EXPIRES seconds (S3_SERVE=redirect). Either way the
        caller has checked access before."""
        if self.serve == "redirect":
            return self._redirect(key, mimetype)
        if etag in request.if_none_match:
            response = current_app.response_class(status=304)
        else:
            response = self._stream(key, mimetype)
        response.set_etag(etag)
        response.cache_control.private = True
        response.cache_control.immutable = True
        response.cache_control.max_age = 365 * 24 * 3600
        return response

    def _stream(self, key: str, mimetype: str) -> Response:
        try:
            with _translated(key):
                stored = self.client.get_object(Bucket=self.bucket, Key=key)
        except FileNotFoundError as error:
            raise NotFound("The file is not in the storage.") from error
        body = stored["Body"]
        response = current_app.response_class(body.iter_chunks(CHUNK), mimetype=mimetype,
                                              direct_passthrough=True)
        response.content_length = stored["ContentLength"]
        response.call_on_close(body.close)
        return response

    def _redirect(self, key: str, mimetype: str) -> Response:
        with _translated(key):
            url = self.signer.generate_presigned_url(
                "get_object", ExpiresIn=self.url_expires,
                Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": mimetype,
                        "ResponseCacheControl": f"private, max-age={self.url_expires}"})
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "private, no-store"  # the URL expires
        return response

    def check(self) -> bool:
        try:
            with _translated(self.bucket):
                self.client.head_bucket(Bucket=self.bucket)
            return True
        except (Unavailable, FileNotFoundError):
            return False


def _client(config: dict, endpoint_url: str | None):
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=config.get("S3_REGION") or "us-east-1",
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID"),
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        config=Config(connect_timeout=3, read_timeout=30, signature_version="s3v4",
                      # The SigV4 payload hash already covers the body; no second checksum.
                      request_checksum_calculation="when_required",
                      retries={"max_attempts": 2, "mode": "standard"},
                      s3={"addressing_style": "path"}),
    )


def create(app: Flask) -> S3Storage:
    if not app.config.get("S3_BUCKET"):
        raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET (and usually S3_ENDPOINT_URL).")
    return S3Storage(app.config)
