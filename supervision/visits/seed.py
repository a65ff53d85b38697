"""Demo visits made through the same services as the API: scored, with photos, over 8 weeks."""

import io
import math
import random
import uuid
from datetime import datetime, timedelta

from flask import current_app
from PIL import Image, ImageDraw

from supervision.checklists.definition import Answer, ChecklistDefinition, Item, applies
from supervision.checklists.services import current_version, definition_of
from supervision.db import db, utcnow
from supervision.errors import NotFound
from supervision.followup.duedates import local_date
from supervision.localtime import day_begins
from supervision.scoring import item_fraction
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
    # The demo store manager's store: a recent mystery visit and audit with actions to follow
    # (supervision/demo.py agrees them, signs the audit off, shows and approves fixes).
    ("mystery", "SH001", 10, "mixed"), ("audit", "SH001", 6, "mixed"),
]
DEGRADE = {"good": 0.0, "mixed": 0.3, "poor": 0.8, "red_line": 0.3}
# Minutes from the previous timed moment to one of each key moment; the queue wait is drawn.
# The demo plays no dispute (there is no store record to find), so dispute moments are left out.
STEP_MINUTES = {"arrival": 0.5, "waiting": 0.5, "transaction": 8, "departure": 2}
# The greeting timer agrees with the answer "greeted within 10 seconds".
GREETED_FAST, GREETING_SECONDS = "arr_greeted_10s", {True: 8, False: 75}
AUDIT_MINUTES = 35
# Questions that arise only on some visits: not applicable otherwise. Care for a long wait is
# asked when the wait passed 10 minutes; umbrellas only on the plan entries when it rained.
WAIT_CARE, LONG_WAIT = {"svc_long_wait_care": "svc_wait_minutes",
                        "wai_long_wait_care": "wai_minutes"}, 10
UMBRELLAS, RAINY = ("svc_umbrella", "dep_umbrella"), {1, 5, 7, 10}
NOT_APPLICABLE = object()
# The one plan entry (a mystery visit left for review) whose shopper remembers a longer wait
# than the timers recorded: the reviewer is shown the contradiction.
MISREMEMBERED, MISREMEMBERED_BY = 11, 6
# What the supervisor or shopper writes about a red-line finding: (note, staff).
RED_LINE_NOTES = {
    "svc_red_argue_mock": (
        "顾客询问上月账单多扣的 30 元，2 号柜台员工两次打断她，说“合同里都写了，是您自己没看清”，"
        "并提高了音量；顾客没办完业务就离开了。/ A customer asked about 30 yuan overcharged last "
        "month; the clerk at counter 2 interrupted her twice (\"it's all in the contract, you "
        "didn't read it\"), raising her voice; the customer left without finishing.",
        "李娜（2 号柜台，工号 0312）/ Li Na (counter 2, badge 0312)"),
}
RED_LINE_NOTE = ("员工当着顾客的面越过红线，已当场制止并与店长沟通。/ A staff member crossed "
                 "the red line in front of the customer; stopped on the spot and discussed with "
                 "the manager.", "当班柜台员工 / the counter clerk on duty")


def seed_visits(stores: dict, users: dict) -> int:
    """Create the planned visits that do not exist yet; returns how many exist."""
    try:
        checklists = {"audit": current_version("storefront-audit"),
                      "mystery": current_version("mystery-visit")}
    except NotFound:  # `flask checklists load` first
        return 0
    for number, (kind, store, days_ago, profile) in enumerate(PLAN):
        visit_id = plan_visit_id(number)
        if db.session.get(Visit, visit_id) is None:
            author = users["supervisor" if kind == "audit" else "shopper"]
            misremembered = MISREMEMBERED_BY if number == MISREMEMBERED else 0
            _make_visit(visit_id, author, stores[store], checklists[kind], days_ago, profile,
                        random.Random(number), misremembered, number in RAINY)
            if kind == "mystery" and number % 2 == 0:
                from supervision.followup.review import review_visit

                review_visit(users["manager"], visit_id, "publish", "数据核实无误 / Checked.")
    for photo in pipeline.pending_photos():
        pipeline.process(photo)
    db.session.commit()
    return len(PLAN)


def plan_visit_id(number: int) -> uuid.UUID:
    """The id of the visit of PLAN entry `number` (the same on every seed)."""
    return uuid.uuid5(NAMESPACE, f"visit-{number}")


def _make_visit(visit_id, author, store, version, days_ago, profile, rng,
                misremembered: int = 0, rained: bool = False) -> None:
    """One visit as its collector would send it; a mystery shopper's number answers state the
    timers' durations (`misremembered` minutes more for the queue)."""
    definition = definition_of(version)
    # 10:30 on the store's own calendar day `days_ago` before its today (its "days since").
    day = local_date(utcnow(), store.timezone) - timedelta(days=days_ago)
    started = day_begins(day, store.timezone) + timedelta(hours=10, minutes=30)
    answers = _answers(definition, profile, rng)
    moments = _moments(definition, started, rng, answers.get(GREETED_FAST, True))
    for item_id, minutes in _timed_answers(definition, moments).items():
        answers[item_id] = minutes + misremembered
    answers.update(_story(definition, answers))
    answers.update(dict.fromkeys(_did_not_arise(answers, rained), NOT_APPLICABLE))
    ended = moments[-1]["at"] if moments else started + timedelta(minutes=AUDIT_MINUTES)
    times = _answer_times(definition, list(answers), started, ended, moments)
    photos = [(uuid.uuid5(visit_id, f"{item.id}-{n}"), item.id,
               max(started, times[item.id] - timedelta(seconds=20 * (n + 1))))
              for item in _items(definition) if item.id in answers
              for n in range(item.photo.min if item.photo.rule == "required" else 0)]
    body = {
        "store_id": store.id, "checklist": {"slug": version.checklist.slug,
                                            "version": version.version},
        "kind": definition.kind, "started_at": started, "ended_at": ended,
        "assignment_id": None,
        "location": {"lat": store.lat, "lon": store.lon, "accuracy_m": 15.0},
        "moments": moments,
        "responses": [_response(definition, k, v, times[k]) for k, v in answers.items()],
        "photos": [{"id": p, "item": item, "taken_at": taken} for p, item, taken in photos],
        "notes": None, "revision": 1,
    }
    services.save_draft(author, visit_id, body)
    limits = (current_app.config["PHOTO_MAX_BYTES"], current_app.config["PHOTO_MAX_PIXELS"])
    for photo_id, item, _taken in photos:
        data = io.BytesIO(demo_photo(photo_id))
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


# What a shopper saw at three points of the path: (item, what it looked like when met, when not),
# each in Chinese and English; the narrative and the best moment are built from them.
FACTS = [
    ("arr_greeted_10s", ("问候", "the greeting"),
     ("进门约 8 秒，流动岗的王敏就迎上来问候并问我办什么业务",
      "about 8 seconds after I walked in, Wang Min on the floor greeted me and asked what I "
      "needed"),
     ("进门后一分多钟无人招呼，两名员工在咨询台后低头看手机",
      "nobody greeted me for over a minute; two staff behind the enquiry desk were on their "
      "phones")),
    ("con_matching_offer", ("推荐", "the offer"),
     ("3 号柜台的陈洁先问清家里三人都用流量，再推荐家庭共享套餐，算出每月能省 40 元",
      "Chen Jie at counter 3 asked who uses data at home, then recommended the family plan "
      "and worked out a saving of 40 yuan a month"),
     ("3 号柜台员工没有问我的用量，直接推荐 199 元的套餐",
      "the clerk at counter 3 did not ask about my usage and went straight to the 199-yuan plan")),
    ("dep_thanks", ("离店致谢", "the thank-you at the door"),
     ("离开时门口的保安看着我说“谢谢光临，慢走”并点头",
      "as I left, the guard at the door looked at me, said \"thank you for coming\" and nodded"),
     ("离开时没有人致谢，门口员工背对着我整理宣传单",
      "nobody thanked me as I left; the staff member at the door had her back to me")),
]
NO_BEST_MOMENT = ("等候时保安主动帮我取号，并指给我自助缴费机",
                  "while I waited, the guard took a ticket for me and showed me the machine")


def _story(definition: ChecklistDefinition, answers: dict) -> dict[str, str]:
    """The shopper's overall impression and best moment, built from the visit's own answers."""
    queue = definition.interval_for("queue_wait")
    waited = next((answers[item.id] for item in _items(definition)
                   if queue and item.interval == queue.id and item.id in answers), None)
    facts = [(item_id, label, met if answers[item_id] else failed)
             for item_id, label, met, failed in FACTS if item_id in answers]
    zh = [text for _, _, (text, _) in facts]
    en = [text for _, _, (_, text) in facts]
    if waited is not None:
        zh.insert(1, f"取号后等了 {waited} 分钟才被叫号")
        en.insert(1, f"I waited {waited} minutes from taking a ticket to being called")
    problems = [label for item_id, label, _ in facts if not answers[item_id]]
    if waited is not None and waited > 10:
        problems.insert(0, ("排队", "the queue"))
    verdict = ((f"主要问题：{'、'.join(zh for zh, _ in problems)}。",
                f"Main problems: {', '.join(en for _, en in problems)}.") if problems
               else ("整体体验很好，没有发现明显问题。", "A very good visit overall."))
    best = next((met for item_id, _, met, _ in FACTS if answers.get(item_id)), NO_BEST_MOMENT)
    texts = {"impression": f"{'；'.join(zh)}。{verdict[0]} / {_sentence('; '.join(en))} "
                           f"{verdict[1]}",
             "best_moment": f"{best[0]}。/ {_sentence(best[1])}"}
    return {item.id: texts[role] for role in texts
            if (item := definition.item_for(role)) is not None and item.id in answers}


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def _did_not_arise(answers: dict, rained: bool) -> list[str]:
    waits = [care for care, wait in WAIT_CARE.items()
             if care in answers and answers.get(wait, 0) <= LONG_WAIT]
    return waits + ([] if rained else [item for item in UMBRELLAS if item in answers])


def _response(definition: ChecklistDefinition, item_id: str, value, at: datetime) -> dict:
    """An answer with the time it was given; a red-line finding with its note and staff."""
    if value is NOT_APPLICABLE:
        return {"item": item_id, "value": None, "na": True, "note": None, "staff": None, "at": at,
                "flagged": False}
    item = definition.item(item_id)
    note, staff = None, None
    if item.red_line and item.type != "text" and item_fraction(item, value) < 1:
        note, staff = RED_LINE_NOTES.get(item_id, RED_LINE_NOTE)
    return {"item": item_id, "value": value, "na": False, "note": note, "staff": staff, "at": at,
            "flagged": False}


def _moments(definition: ChecklistDefinition, started: datetime, rng: random.Random,
             greeted_fast: bool) -> list:
    wait = rng.choice((4, 9, 14, 23))
    queue = definition.interval_for("queue_wait")
    minutes: dict[str, float] = {}
    at = 0.0
    for moment in definition.moments:
        if moment.moment not in STEP_MINUTES:
            continue
        if queue and moment.id == queue.end and queue.start in minutes:
            at = minutes[queue.start] + wait
        elif moment.moment == "arrival" and minutes:
            at += GREETING_SECONDS[bool(greeted_fast)] / 60
        elif minutes:
            at += STEP_MINUTES[moment.moment]
        minutes[moment.id] = at
    return [{"moment": m, "at": started + timedelta(minutes=n)} for m, n in minutes.items()]


def _timed_answers(definition: ChecklistDefinition, moments: list) -> dict[str, int]:
    """{item id: whole minutes} of each number item stating an interval both timers recorded."""
    at = {m["moment"]: m["at"] for m in moments}
    intervals = {interval.id: interval for interval in definition.intervals}
    stated = {}
    for item in _items(definition):
        interval = intervals.get(item.interval)
        if item.type == "number" and interval and interval.start in at and interval.end in at:
            stated[item.id] = round((at[interval.end] - at[interval.start]).total_seconds() / 60)
    return stated


def _answer_times(definition: ChecklistDefinition, answered: list[str], started: datetime,
                  ended: datetime, moments: list) -> dict[str, datetime]:
    """When each answer was given: a shopper's at the last timer of its key moment (or the one
    before, along the path); a supervisor's spread over the walk, in document order."""
    if not moments:
        step = (ended - started) / (len(answered) + 1)
        return {item_id: started + step * (n + 1) for n, item_id in enumerate(answered)}
    key_moment = {timed.id: timed.moment for timed in definition.moments}
    last = {key_moment[m["moment"]]: m["at"] for m in moments}
    times, at = {}, started
    for item in _items(definition):
        at = last.get(item.moment, at)
        if item.id in answered:
            times[item.id] = at
    return times


def demo_photo(photo_id: uuid.UUID) -> bytes:
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


def signature_png(seed: int = 0) -> bytes:
    """A signature as a finger draws it on the tablet: dark strokes on a transparent PNG, the
    same bytes for the same seed."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    x = 40.0
    for _ in range(3):  # a stroke per character of a three-character name
        points = []
        for step in range(18):
            x += rng.uniform(4, 7)
            points.append((x, 100 + 45 * math.sin(step / 2.3 + rng.random()) + rng.uniform(-8, 8)))
        draw.line(points, fill=(20, 30, 80, 255), width=5, joint="curve")
        x += 30
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
