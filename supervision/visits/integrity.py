"""Evidence integrity signals, computed when a visit is submitted: what makes a reviewer doubt
that the visit happened as reported. Each is a flag with its facts and a reason in both
languages, never a rejection (the shopper may have had reasons); the store never sees them.
Mystery visits only: an audit is published to the store at once, with no reviewer between.

- duplicate_photo: a photo whose content (the stored hash) already appears in another visit;
- photo_time_outside: a photo taken (the device's EXIF time) outside the visit's start–end or
  the assignment window, give or take PHOTO_TIME_TOLERANCE;
- short_dwell: the visit's dwell interval (entering → leaving, by its timers) shorter than the
  checklist's minimum for the scenario played (`min_dwell_minutes`, docs/checklists.md);
- duplicate_text: free text repeated from another visit of the same shopper;
- outlier_total: a total far from the shopper's, or the store's, usual (a z-score over their
  last visits of the same checklist, once there are OUTLIER_MIN_VISITS of them).
"""

import math
import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.models import ChecklistVersion
from supervision.db import db
from supervision.visits.models import Photo, Response, Visit
from supervision.visits.timers import interval_seconds, moment_times

CODES = ("duplicate_photo", "photo_time_outside", "short_dwell", "duplicate_text",
         "outlier_total")
# A device's clock and a photo of the storefront taken just before going in (or after leaving).
PHOTO_TIME_TOLERANCE = timedelta(minutes=15)
# Shorter text ("好", "无", "服务很好") repeats by nature; this much written twice was copied.
MIN_TEXT_CHARS = 12
# How many of the author's recent visits free text is compared with.
TEXT_VISITS = 100
# The z-score speaks once this many earlier visits make a usual; over the last OUTLIER_LAST.
OUTLIER_MIN_VISITS, OUTLIER_LAST = 5, 20
OUTLIER_Z = 2.5
# Totals that barely vary would make any small difference extreme: a spread of at least 8
# points, so that it takes a move of 20 points to speak.
OUTLIER_MIN_SPREAD = 8.0
# Visits whose total makes a usual: sent and not set aside (rejected or excluded).
COUNTED = ("submitted", "published")
TIME_FORMAT = "%Y-%m-%d %H:%M"


def integrity_flags(visit: Visit, definition: ChecklistDefinition, assignment=None) -> list[dict]:
    """The integrity flags of a mystery visit being submitted (its photos are all received by
    then). An audit has none: no reviewer reads it before the store does."""
    if visit.kind != "mystery":
        return []
    return [*duplicate_photos(visit, definition), *photo_times(visit, definition, assignment),
            *short_dwell(visit, definition), *duplicate_texts(visit, definition),
            *outlier_totals(visit)]


def _item_text(definition: ChecklistDefinition, item_id: str | None):
    """The item as the reviewer reads it (None for a photo of no item, or an unknown one)."""
    item = _item(definition, item_id)
    return None if item is None else item.report_text or item.text


def _item(definition: ChecklistDefinition, item_id: str | None):
    try:
        return definition.item(item_id)
    except KeyError:  # a photo of no item, or an id the checklist does not have
        return None


def duplicate_photos(visit: Visit, definition: ChecklistDefinition) -> list[dict]:
    hashes = {p.content_hash for p in visit.photos if p.content_hash}
    if not hashes:
        return []
    elsewhere: dict[str, list[str]] = {}
    for content_hash, visit_id in db.session.execute(
            select(Photo.content_hash, Photo.visit_id).where(
                Photo.content_hash.in_(hashes), Photo.visit_id != visit.id)
            .order_by(Photo.announced_at)):
        ids = elsewhere.setdefault(content_hash, [])
        if str(visit_id) not in ids:
            ids.append(str(visit_id))
    flags = []
    for photo in visit.photos:
        if photo.content_hash not in elsewhere:
            continue
        text = _item_text(definition, photo.item_id)
        zh, en = (f"“{text.zh}”的", f"of “{text.en}” ") if text else ("", "")
        flags.append({
            "code": "duplicate_photo",
            "message": f"{zh}照片与另一次到访的照片完全相同 / The photo {en}is identical to a "
                       f"photo of another visit.",
            "photo_id": str(photo.id), "item": photo.item_id,
            "other_visit_ids": elsewhere[photo.content_hash][:5],
        })
    return flags


def visit_span(visit: Visit) -> tuple[datetime, datetime | None]:
    """When the visit began and ended: its stated end, else its last timed moment, else when it
    was submitted."""
    times = [at for _, at in moment_times(visit, ZoneInfo(visit.store.timezone))]
    end = visit.ended_at or (max(times) if times else None) or visit.submitted_at
    return visit.started_at, end


def photo_times(visit: Visit, definition: ChecklistDefinition, assignment=None) -> list[dict]:
    tz, tolerance = ZoneInfo(visit.store.timezone), PHOTO_TIME_TOLERANCE
    start, end = visit_span(visit)
    flags = []
    for photo in visit.photos:
        taken = photo.taken_at
        if taken is None:
            continue
        outside_visit = taken < start - tolerance or (end is not None and taken > end + tolerance)
        outside_window = assignment is not None and not (
            assignment.window_start - tolerance <= taken <= assignment.window_end + tolerance)
        if not (outside_visit or outside_window):
            continue
        flags.append(_photo_time_flag(photo, definition, tz, outside_visit, (start, end),
                                      (assignment.window_start, assignment.window_end)
                                      if outside_window else None))
    return flags


def _photo_time_flag(photo, definition, tz, outside_visit, span, window) -> dict:
    text = _item_text(definition, photo.item_id)
    zh_of, en_of = (f"“{text.zh}”的", f" of “{text.en}”") if text else ("", "")
    taken = _local(photo.taken_at, tz)
    if outside_visit:
        bounds = f"{_local(span[0], tz)}–{_local(span[1], tz) if span[1] else '…'}"
        zh, en = f"不在到访时间 {bounds} 内", f"outside the visit ({bounds})"
    else:
        bounds = f"{_local(window[0], tz)}–{_local(window[1], tz)}"
        zh, en = f"不在任务时间窗 {bounds} 内", f"outside the assignment window ({bounds})"
    flag = {
        "code": "photo_time_outside",
        "message": f"{zh_of}照片拍摄于 {taken}，{zh} / The photo{en_of} was taken at {taken}, "
                   f"{en}.",
        "photo_id": str(photo.id), "item": photo.item_id,
        "taken_at": photo.taken_at.isoformat(), "outside": "visit" if outside_visit else "window",
        "visit_start": span[0].isoformat(), "visit_end": span[1] and span[1].isoformat(),
    }
    if window is not None:
        flag.update(window_start=window[0].isoformat(), window_end=window[1].isoformat())
    return flag


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(TIME_FORMAT)


def required_dwell(definition: ChecklistDefinition, visit: Visit) -> tuple[int, list[str]]:
    """The shortest plausible visit in minutes (0: none set) given the scenario answered, and
    the scenario items (answered yes) that ask for the most."""
    yes = {r.item_id for r in visit.responses if r.value is True and not r.na}
    asks = {item.id: item.min_dwell_minutes for _, item in definition.items()
            if item.min_dwell_minutes and item.id in yes}
    needed = max([definition.min_dwell_minutes or 0, *asks.values()])
    return needed, [item for item, minutes in asks.items() if minutes == needed]


def short_dwell(visit: Visit, definition: ChecklistDefinition) -> list[dict]:
    interval = definition.interval_for("dwell")
    needed, items = required_dwell(definition, visit)
    if interval is None or not needed:
        return []
    seconds = interval_seconds(moment_times(visit, ZoneInfo(visit.store.timezone)),
                               definition).get(interval.id)
    if seconds is None or seconds >= needed * 60:
        return []  # not timed (nothing to measure), or long enough
    minutes = max(0, math.floor(seconds / 60))
    return [{
        "code": "short_dwell",
        "message": f"到访仅 {minutes} 分钟，少于该情景至少需要的 {needed} 分钟 / The visit "
                   f"lasted {minutes} min, less than the {needed} min its scenario needs.",
        "dwell_seconds": round(seconds), "min_minutes": needed, "items": items,
    }]


def normalised(text) -> str:
    """Text as compared: letters and digits only, case folded (spacing and punctuation vary
    when text is pasted and touched up)."""
    return "".join(c for c in str(text).casefold() if c.isalnum())


def _texts_of(visit: Visit, definition: ChecklistDefinition) -> list[tuple[str, str, str]]:
    """(where, field, text) of the visit's free text: text answers, answer notes, its notes."""
    found = []
    for response in visit.responses:
        item = _item(definition, response.item_id)
        if item and item.type == "text" and isinstance(response.value, str):
            found.append((response.item_id, "value", response.value))
        if response.note:
            found.append((response.item_id, "note", response.note))
    if visit.notes:
        found.append(("notes", "notes", visit.notes))
    return [entry for entry in found if len(normalised(entry[2])) >= MIN_TEXT_CHARS]


def _earlier_texts(visit: Visit) -> dict[str, str]:
    """Normalised text → the id of a recent other visit of the author that holds it."""
    others = (select(Visit.id).where(Visit.author_id == visit.author_id, Visit.id != visit.id,
                                     Visit.status != "draft")
              .order_by(Visit.started_at.desc()).limit(TEXT_VISITS))
    ids = db.session.scalars(others).all()
    if not ids:
        return {}
    known: dict[str, str] = {}
    rows = db.session.execute(select(Response.visit_id, Response.value, Response.note)
                              .where(Response.visit_id.in_(ids)))
    notes = db.session.execute(select(Visit.id, Visit.notes).where(Visit.id.in_(ids)))
    for visit_id, *texts in [*rows, *notes]:
        for text in texts:
            if isinstance(text, str) and len(key := normalised(text)) >= MIN_TEXT_CHARS:
                known.setdefault(key, str(visit_id))
    return known


def duplicate_texts(visit: Visit, definition: ChecklistDefinition) -> list[dict]:
    texts = _texts_of(visit, definition)
    known = _earlier_texts(visit) if texts else {}
    flags = []
    for where, field, text in texts:
        other = known.get(normalised(text))
        if other is None:
            continue
        excerpt = text.strip() if len(text.strip()) <= 40 else f"{text.strip()[:40]}…"
        flags.append({
            "code": "duplicate_text",
            "message": f"“{excerpt}”与本人另一次到访的文字相同 / “{excerpt}” repeats the "
                       f"shopper's text of another visit.",
            "item": where, "field": field, "other_visit_id": other,
        })
    return flags


def _usual_totals(visit: Visit, basis: str) -> list[float]:
    """The totals of the last visits of the author (or the store) with the same checklist."""
    same_checklist = select(ChecklistVersion.id).where(
        ChecklistVersion.checklist_id == visit.checklist_version.checklist_id)
    whose = (Visit.author_id == visit.author_id if basis == "shopper"
             else Visit.store_id == visit.store_id)
    return list(db.session.scalars(
        select(Visit.total).where(whose, Visit.id != visit.id, Visit.status.in_(COUNTED),
                                  Visit.excluded.is_(None), Visit.total.is_not(None),
                                  Visit.checklist_version_id.in_(same_checklist))
        .order_by(Visit.started_at.desc()).limit(OUTLIER_LAST)))


WHOSE = {"shopper": ("该暗访员", "the shopper's"), "store": ("该门店", "the store's")}


def outlier_totals(visit: Visit) -> list[dict]:
    if visit.total is None:
        return []
    flags = []
    for basis in ("shopper", "store"):
        totals = _usual_totals(visit, basis)
        if len(totals) < OUTLIER_MIN_VISITS:
            continue  # too few visits to know what is usual
        mean = statistics.fmean(totals)
        spread = max(statistics.pstdev(totals), OUTLIER_MIN_SPREAD)
        z = (visit.total - mean) / spread
        if abs(z) < OUTLIER_Z:
            continue
        zh_whose, en_whose = WHOSE[basis]
        zh_side, en_side = ("高于", "above") if z > 0 else ("低于", "below")
        flags.append({
            "code": "outlier_total",
            "message": f"总分 {visit.total:g} 远{zh_side}{zh_whose}近 {len(totals)} 次的平均 "
                       f"{mean:.1f}（z = {z:+.1f}）/ The total {visit.total:g} is far {en_side} "
                       f"{en_whose} usual: {mean:.1f} on average over the last {len(totals)} "
                       f"visits (z = {z:+.1f}).",
            "basis": basis, "total": visit.total, "mean": round(mean, 1),
            "spread": round(spread, 1), "z": round(z, 2), "visits": len(totals),
        })
    return flags
