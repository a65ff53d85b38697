"""Demo visits made through the same services as the API: scored, with photos, over 8 weeks."""

import io
import random
import uuid
from datetime import datetime, timedelta

from flask import current_app
from PIL import Image, ImageDraw

from supervision.checklists.definition import Answer, ChecklistDefinition, Item, applies
from supervision.checklists.services import current_version, definition_of
from supervision.db import db, utcnow
from supervision.errors import NotFound
from supervision.visits import photos as pipeline
from supervision.visits import services
from supervision.visits.models import Visit

NAMESPACE = uuid.UUID("5b0f3c1e-6a53-4c0e-9d7e-2f1f6a1d0c42")
# (kind, store code, days ago, how it went); each one becomes a scored visit.
PLAN = [
    ("audit", "SH001", 54, "good"), ("audit", "SH002", 47, "mixed"),
    ("audit", "HZ001", 40, "poor"), ("audit", "SH003", 33, "good"),
    ("audit", "NJ001", 26, "red_line"), ("audit", "SH001", 19, "mixed"),
    ("audit", "HZ002", 12, "good"), ("audit", "SZ001", 5, "mixed"),
    ("mystery", "SH001", 44, "good"), ("mystery", "SH002", 30, "mixed"),
    ("mystery", "HZ001", 16, "poor"), ("mystery", "SH003", 3, "good"),
]
DEGRADE = {"good": 0.0, "mixed": 0.3, "poor": 0.8, "red_line": 0.3}
# Minutes from the previous timed moment to one of each key moment; the queue wait is drawn.
# The demo plays no dispute (there is no store record to find), so dispute moments are left out.
STEP_MINUTES = {"arrival": 0.5, "waiting": 0.5, "transaction": 8, "departure": 2}


def seed_visits(stores: dict, users: dict) -> int:
    """Create the planned visits that do not exist yet; returns how many exist."""
    try:
        checklists = {"audit": current_version("storefront-audit"),
                      "mystery": current_version("mystery-visit")}
    except NotFound:  # `flask checklists load` first
        return 0
    for number, (kind, store, days_ago, profile) in enumerate(PLAN):
        visit_id = uuid.uuid5(NAMESPACE, f"visit-{number}")
        if db.session.get(Visit, visit_id) is None:
            author = users["supervisor" if kind == "audit" else "shopper"]
            _make_visit(visit_id, author, stores[store], checklists[kind], days_ago, profile,
                        random.Random(number))
            if kind == "mystery" and number % 2 == 0:
                from supervision.followup.review import review_visit

                review_visit(users["manager"], visit_id, "publish", "数据核实无误 / Checked.")
    for photo in pipeline.pending_photos():
        pipeline.process(photo)
    db.session.commit()
    return len(PLAN)


def _make_visit(visit_id, author, store, version, days_ago, profile, rng) -> None:
    definition = definition_of(version)
    started = (utcnow() - timedelta(days=days_ago)).replace(hour=2, minute=30, second=0,
                                                            microsecond=0)
    answers = _answers(definition, profile, rng)
    photos = [(uuid.uuid5(visit_id, f"{item.id}-{n}"), item.id)
              for item in _items(definition) if item.id in answers
              for n in range(item.photo.min if item.photo.rule == "required" else 0)]
    body = {
        "store_id": store.id, "checklist": {"slug": version.checklist.slug,
                                            "version": version.version},
        "kind": definition.kind, "started_at": started,
        "ended_at": started + timedelta(minutes=35), "assignment_id": None,
        "location": {"lat": store.lat, "lon": store.lon, "accuracy_m": 15.0},
        "moments": _moments(definition, started, rng),
        "responses": [{"item": k, "value": v, "na": False, "note": None, "staff": None}
                      for k, v in answers.items()],
        "photos": [{"id": p, "item": item} for p, item in photos], "notes": None, "revision": 1,
    }
    services.save_draft(author, visit_id, body)
    limits = (current_app.config["PHOTO_MAX_BYTES"], current_app.config["PHOTO_MAX_PIXELS"])
    for photo_id, item in photos:
        data = io.BytesIO(_photo(photo_id))
        services.receive_photo(author, visit_id, photo_id, item, data, "image/jpeg", limits)
    services.submit(author, visit_id)


def _items(definition: ChecklistDefinition):
    return [item for _, item in definition.items()]


def _answers(definition: ChecklistDefinition, profile: str, rng: random.Random) -> dict:
    """Answers in document order, skipping what the earlier ones switch off."""
    answers: dict = {}
    red_line_failed = profile != "red_line"
    scenarios = {s.condition.item: s for s in definition.sections if s.condition}
    for item in _items(definition):
        if not applies(definition, item, {k: Answer(v) for k, v in answers.items()}):
            continue
        if item.id in scenarios:  # switch each conditional section on, except the dispute
            section = scenarios[item.id]
            played = section.moment != "dispute"
            value = section.condition.equals if played else not section.condition.equals
        elif item.red_line:
            value, red_line_failed = _value(item, red_line_failed), True
        else:
            value = _value(item, rng.random() >= DEGRADE[profile])
        answers[item.id] = value
    return answers


def _value(item: Item, good: bool):
    if item.type == "yes_no":
        return item.inverse != good
    if item.type == "scale":
        return 5 if good else 2
    if item.type == "number":
        return item.thresholds.good if good else (item.thresholds.good + item.thresholds.fail) / 2
    if item.type == "choice":
        ordered = sorted(item.options, key=lambda option: option.score)
        return (ordered[-1] if good else ordered[0]).id
    return "整体良好，个别细节需跟进 / Good overall; a few details to follow up." if good \
        else "多处需要改进，已与店长沟通 / Several points to improve; discussed with the manager."


def _moments(definition: ChecklistDefinition, started: datetime, rng: random.Random) -> list:
    wait = rng.choice((4, 9, 14, 23))
    queue = definition.interval_for("queue_wait")
    minutes: dict[str, float] = {}
    at = 0.0
    for moment in definition.moments:
        if moment.moment not in STEP_MINUTES:
            continue
        if queue and moment.id == queue.end and queue.start in minutes:
            at = minutes[queue.start] + wait
        elif minutes:
            at += STEP_MINUTES[moment.moment]
        minutes[moment.id] = at
    return [{"moment": m, "at": started + timedelta(minutes=n)} for m, n in minutes.items()]


def _photo(photo_id: uuid.UUID) -> bytes:
    """A plain picture, the same bytes for the same id (so a second seed changes nothing)."""
    rng = random.Random(photo_id.int)
    image = Image.new("RGB", (800, 600), tuple(rng.randrange(60, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(600), rng.randrange(400)
        draw.rectangle((x, y, x + 200, y + 200), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
