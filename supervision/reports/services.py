"""Reports end to end: check access, build the plain context, render it once, keep the PDF."""

import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Forbidden
from supervision.jobs import services as jobs
from supervision.localtime import local_zone
from supervision.reports import cache as report_cache
from supervision.reports import calibration, labels
from supervision.reports.context import visit_context
from supervision.reports.followup import followup_block
from supervision.reports.pdf import RestrictedFetcher, render_pdf
from supervision.reports.period import Period
from supervision.reports.summaries import region_context, store_context
from supervision.scoping import get_region, get_store, get_visit
from supervision.storage import get_storage
from supervision.stores.models import Region, Store
from supervision.visits import photos as pipeline
from supervision.visits.models import Visit

AUDIENCES = ("store", "internal")
# Who may read the internal version of a visit report (it names the mystery shopper).
INTERNAL_ROLES = ("admin", "manager")
# A store manager reads its own stores' reports (visits in the store version), never a region's.
STORE_REPORT_ROLES = ("admin", "manager", "supervisor", "store_manager")
REGION_REPORT_ROLES = ("admin", "manager")
REGION_JOB = "region_report"


@dataclass(frozen=True)
class Report:
    """A rendered report: the cache key of its PDF, or its HTML preview."""

    filename: str
    key: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class Pending:
    """A report still being rendered by a background job."""

    job_id: str


def visit_report(user, visit_id, lang: str, audience: str, fmt: str) -> Report:
    """The coaching report of a visit; the internal version only for admins and managers."""
    if audience == "internal" and user.role not in INTERNAL_ROLES:
        raise Forbidden("Only administrators and managers may read the internal version.")
    visit = get_visit(user, visit_id)
    _process_received_photos(visit)
    context = _visit_context(visit, lang, audience)
    if audience == "internal":
        record(user, "read_internal_report", "visit", visit.id, format=fmt)
    day = visit.started_at.astimezone(ZoneInfo(visit.store.timezone)).date().isoformat()
    name = f"visit-{visit.store.code}-{day}-{lang}-{audience}"
    return _produce("visit", context, audience, fmt, name)


def prerender_visit(visit_id: str) -> list[str]:
    """The reports task: every version of the visit a reader may ask for first — the internal
    one, and the store one once published — in each REPORT_PRERENDER language. Returns the keys
    it rendered (those already in the cache are left as they are)."""
    visit = db.session.get(Visit, uuid.UUID(visit_id))
    if visit is None or visit.status not in ("submitted", "published"):
        return []
    _process_received_photos(visit)
    db.session.commit()
    audiences = AUDIENCES if visit.status == "published" else ("internal",)
    rendered = []
    for lang in current_app.config["REPORT_PRERENDER"]:
        for audience in audiences:
            context = _visit_context(visit, lang, audience)
            key = report_cache.cache_key("visit", lang, audience, context)
            if not report_cache.exists(key):
                report_cache.put(key, render("visit", context))
                rendered.append(key)
    return rendered


def store_report(user, store_id: int, start: date | None, end: date | None, lang: str,
                 fmt: str) -> Report:
    if user.role not in STORE_REPORT_ROLES:
        raise Forbidden("Store reports are for store managers, supervisors, managers and "
                        "administrators.")
    store = get_store(user, store_id)
    context = store_context(store, start, end, lang, utcnow())
    span = f"{context['period']['from']}-{context['period']['to']}"
    return _produce("store", context, "store", fmt, f"store-{store.code}-{span}-{lang}")


def region_report(user, region_id: int, start: date | None, end: date | None, lang: str,
                  fmt: str, url: str) -> Report | Pending:
    """The PDF when it is ready; otherwise the job that renders it (queued once per content)."""
    if user.role not in REGION_REPORT_ROLES:
        raise Forbidden("Region reports are for managers and administrators.")
    region = get_region(user, region_id)
    context = _region_context(region, start, end, lang)
    filename = _region_filename(region.code, context, lang)
    if fmt == "html":
        return _produce("region", context, "manager", fmt, filename)
    key = report_cache.cache_key("region", lang, "manager", context)
    if report_cache.exists(key):
        return Report(f"{filename}.pdf", key)
    params = {"region_id": region.id, **context["period"], "lang": lang, "url": url}
    job, _ = jobs.enqueue(REGION_JOB, key, params, user)  # starts when the caller commits
    return Pending(job.id)


def run_region_report(job, progress) -> str:
    """The region_report job: render and keep the PDF; returns its cache key."""
    params = job.params
    region = db.session.get(Region, params["region_id"])
    start, end = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    context = _region_context(region, start, end, params["lang"])
    progress(20)
    key = report_cache.cache_key("region", params["lang"], "manager", context)
    if not report_cache.exists(key):
        pdf = render("region", context, lambda percent: progress(20 + percent * 3 // 4))
        report_cache.put(key, pdf)
    return key


def _visit_context(visit, lang: str, audience: str) -> dict:
    """The visit's context; the internal version compares it with its calibration visit."""
    context = visit_context(visit, lang, audience)
    context["followup"] = followup_block(visit, lang)
    if audience == "internal":
        context["calibrations"] = calibration.report_blocks(visit, lang)
    return context


def _region_context(region, start: date | None, end: date | None, lang: str) -> dict:
    """The region's context, with the items its calibration pairs scored differently."""
    context = region_context(region, start, end, lang, utcnow())
    days = {key: date.fromisoformat(value) for key, value in context["period"].items()}
    period = Period(days["from"], days["to"], local_zone())
    stores = db.session.scalars(select(Store.id).where(Store.region_id == region.id))
    context["calibration"] = calibration.region_block(list(stores), period.begins, period.ends,
                                                      lang)
    return context


def _region_filename(code: str, context: dict, lang: str) -> str:
    return f"region-{code}-{context['period']['from']}-{context['period']['to']}-{lang}"


def _produce(kind: str, context: dict, audience: str, fmt: str, name: str) -> Report:
    if fmt == "html":
        return Report(f"{name}.html", html=render_html(kind, context, "html"))
    key = report_cache.cache_key(kind, context["lang"], audience, context)
    if not report_cache.exists(key):
        report_cache.put(key, render(kind, context))
    return Report(f"{name}.pdf", key)


def _process_received_photos(visit) -> None:
    """Photos whose derivatives are not made yet get them now (as the photo endpoint does)."""
    for photo in list(visit.photos):
        pipeline.process(photo)


def render(kind: str, context: dict, progress=None) -> bytes:
    """The PDF of a report context; only its own photos and the static files can be fetched."""
    html = render_html(kind, context, "pdf")
    # A follow-up visit's report shows the earlier visit's photos of the items it compares.
    refs = [*context.get("photos", []), *(context.get("followup") or {}).get("photos", [])]
    fetcher = RestrictedFetcher(_photo_loader(refs, context.get("signoff")),
                                current_app.static_folder)
    return render_pdf(html, fetcher, progress)


def render_html(kind: str, context: dict, mode: str) -> str:
    lang = context["lang"]
    return render_template(
        f"reports/{kind}.html", **context,
        t=labels.translator(lang), zh=labels.is_zh(lang), mode=mode, fmt=labels.number,
        arrows=labels.TREND_ARROWS, photo_src=_photo_src(mode),
        stylesheet=Markup(_stylesheet(current_app.static_folder)),
        template_version=report_cache.current_template_version(),
    )


def _photo_src(mode: str):
    if mode == "pdf":
        return lambda ref: f"photo:{ref['id']}/display"
    return lambda ref: f"/api/v1/visits/{ref['visit']}/photos/{ref['id']}?size=display"


def _photo_loader(refs: list[dict], signoff: dict | None = None):
    """Reads the display derivative of the photos the context names, and the sign-off's
    signature PNG (photo:signature/signature), and nothing else."""
    allowed = {ref["id"]: ref for ref in refs}
    signature = (signoff or {}).get("signature")
    storage = get_storage()

    def load(photo_id: str, size: str) -> tuple[bytes, str]:
        if signature and photo_id == signature["id"] and size == "signature":
            return _signature_png(storage, signature["hash"]), "image/png"
        ref = allowed.get(photo_id)
        if ref is None or size != "display":
            raise ValueError(f"photo {photo_id[:40]!r}/{size[:20]!r} is not part of this report")
        with storage.open(pipeline.derived_key(ref["hash"], "display", None)) as stored:
            return stored.read(), "image/jpeg"

    return load


def _signature_png(storage, content_hash: str) -> bytes:
    """The clean copy the sign-off kept (no metadata), else the PNG as received."""
    key = pipeline.derived_key(content_hash, "original", "image/png")
    if not storage.exists(key):
        key = pipeline.original_key(content_hash)
    with storage.open(key) as stored:
        return stored.read()


@cache
def _stylesheet(static_folder: str) -> str:
    return Path(report_cache.stylesheet_path(static_folder)).read_text(encoding="utf-8")
