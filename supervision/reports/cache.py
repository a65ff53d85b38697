"""Rendered reports kept in the storage under a key made of their content: the same data and
template version are never rendered twice, and any change of the data yields a new key."""

import hashlib
import json
from functools import cache
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app

from supervision.storage import get_storage

PREFIX = "reports"
# What a PDF depends on besides its context, as paths under the package: the code that builds
# contexts and scores (every Python file of these packages) and the checklist-independent inputs
# it reads (function and moment labels, the overdue rule). Their bytes, with the templates' and
# the stylesheet's, make the version: no one has to remember to bump it.
CODE_PACKAGES = ("reports", "scoring")
CODE_FILES = ("checklists/definition.py", "followup/duedates.py")


def report_inputs(package: str | Path, template_folder: str | Path,
                  static_folder: str | Path) -> list[tuple[str, Path]]:
    """(name, path) of every file a report depends on, named relative to its folder so that
    every machine running the same code computes the same version (the cache may be shared)."""
    package, templates = Path(package), Path(template_folder, "reports")
    code = [path for name in CODE_PACKAGES for path in sorted(Path(package, name).rglob("*.py"))]
    code += [Path(package, name) for name in CODE_FILES]
    named = [(f"code/{path.relative_to(package).as_posix()}", path) for path in code]
    named += [(f"templates/{path.relative_to(templates).as_posix()}", path)
              for path in sorted(templates.rglob("*")) if path.is_file()]
    return named + [("static/css/reports.css", stylesheet_path(static_folder))]


@cache
def template_version(package: str, template_folder: str, static_folder: str) -> str:
    """The version of the report code, templates and stylesheet, read once per process."""
    return inputs_digest(package, template_folder, static_folder)


def inputs_digest(package: str | Path, template_folder: str | Path,
                  static_folder: str | Path) -> str:
    """A digest of the bytes and names of every file a report depends on."""
    digest = hashlib.sha256()
    for name, path in report_inputs(package, template_folder, static_folder):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()[:16]


def stylesheet_path(static_folder: str | Path) -> Path:
    return Path(static_folder, "css", "reports.css")


def current_template_version() -> str:
    app = current_app
    return template_version(app.root_path, str(Path(app.root_path, app.template_folder)),
                            app.static_folder)


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
