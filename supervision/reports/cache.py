"""Rendered reports kept in the storage under a key made of their content: the same data and
template version are never rendered twice, and any change of the data yields a new key."""

import hashlib
import json
from functools import cache
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app

from supervision.storage import get_storage

# Bump when the code that builds contexts changes what a report shows; template and stylesheet
# edits are noticed by themselves (their bytes are part of the version).
CODE_VERSION = "1"
PREFIX = "reports"


@cache
def template_version(template_folder: str, static_folder: str) -> str:
    """CODE_VERSION plus a digest of the report templates and stylesheet, read once."""
    digest = hashlib.sha256(CODE_VERSION.encode())
    files = sorted(Path(template_folder, "reports").glob("*")) + [stylesheet_path(static_folder)]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{CODE_VERSION}-{digest.hexdigest()[:12]}"


def stylesheet_path(static_folder: str) -> Path:
    return Path(static_folder, "css", "reports.css")


def current_template_version() -> str:
    app = current_app
    return template_version(str(Path(app.root_path, app.template_folder)), app.static_folder)


def cache_key(kind: str, lang: str, audience: str, context: dict) -> str:
    """sha256 of everything the PDF depends on; 64 hex characters."""
    document = json.dumps(
        [kind, current_template_version(), lang, audience, context],
        sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"),
    )
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def storage_key(key: str) -> str:
    return f"{PREFIX}/{key[:2]}/{key}.pdf"


def exists(key: str) -> bool:
    return get_storage().exists(storage_key(key))


def put(key: str, pdf: bytes) -> None:
    storage = get_storage()
    path = storage.spool_file()
    try:
        path.write_bytes(pdf)
        storage.put_file(storage_key(key), path)
    finally:
        path.unlink(missing_ok=True)


def read(key: str) -> bytes:
    with get_storage().open(storage_key(key)) as stored:
        return stored.read()


def send(key: str, filename: str) -> Response:
    """The cached PDF as a download. The URL is not content-addressed, so browsers revalidate;
    the ETag is the content key, so an unchanged report answers 304."""
    response = current_app.response_class(read(key), mimetype="application/pdf")
    response.set_etag(key)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.headers["Content-Disposition"] = _disposition(filename)
    return response


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "report.pdf"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
