"""Evidence integrity signals (supervision/visits/integrity.py): each fires on a crafted visit
sent over the API and stays quiet on a clean one; a flag never refuses a visit, and the store's
side never sees one. The checklist's dwell minimums (sparse keys) load, validate and keep old
versions' identity."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.loader import ChecklistError, definition_hash, load_checklist
from supervision.db import db
from tests.followup_helpers import upload_photo
from tests.images import picture
from tests.visit_support import DATA, audit_body, new_id

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "data" / "integrity"
SH = ZoneInfo("Asia/Shanghai")
# Two days ago, 14:00 in Shanghai: a past afternoon, whatever the hour the tests run.
BASE = datetime.combine((datetime.now(SH) - timedelta(days=2)).date(), datetime.min.time(),
                        SH).replace(hour=14)

# A checklist of our own: a dwell interval, a 5-minute minimum, 15 minutes when the dispute
# scenario is played, a photo item, a free-text item, two scored items.
CHECKLIST = """
slug: integrity-check
title: {zh: 证据核查, en: Evidence check}
kind: mystery
min_dwell_minutes: 5
moments:
  - {id: entered, moment: arrival, title: {zh: 进门, en: Entered}}
  - {id: departed, moment: departure, title: {zh: 离开, en: Left}}
intervals:
  - {id: visit, start: entered, end: departed, role: dwell, label: {zh: 整个到访, en: Whole visit}}
sections:
  - id: arrival
    moment: arrival
    title: {zh: 到来, en: Arrival}
    items:
      - id: scenario_dispute
        function: service
        type: yes_no
        scored: false
        min_dwell_minutes: 15
        text: {zh: 是否演练了争议情景？, en: "Did you play a dispute?"}
      - id: greeted
        function: service
        type: yes_no
        kano: performance
        photo: {rule: optional}
        text: {zh: 主动问候, en: Greeted}
        report_text: {zh: 员工主动问候顾客, en: Staff greeted the customer}
      - id: courtesy
        function: service
        type: scale
        kano: performance
        text: {zh: 礼貌, en: Courtesy}
      - id: impression
        function: service
        type: text
        text: {zh: 总体印象, en: Overall impression}
"""
CODES = ("duplicate_photo", "photo_time_outside", "short_dwell", "duplicate_text",
         "outlier_total")


@pytest.fixture
def world(app, make_world):
    from supervision.checklists.services import add_version

    with app.app_context():
        add_version(CHECKLIST, "integrity-check.yaml")
        db.session.commit()
    return make_world(checklists=(DATA / "audit.yaml",),
                      stores={"store": "east", "west_store": "west"}, people={
        "admin": "admin", "manager": ("manager", "east"), "supervisor": ("supervisor", "east"),
        "shopper": ("shopper", "east", "west"), "other_shopper": ("shopper", "east")})


def _at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def send(client, world, who="shopper", store="store", answers=None, dwell=20, photos=(),
         notes=None, start=0, **extra) -> str:
    """A mystery visit of the checklist saved and submitted over the API by `who`; returns its
    id. It starts `start` minutes after BASE and ends 45 minutes later; `dwell`: minutes from
    pressing entered (a minute in) to departed (None: departed never pressed). `photos`:
    (image bytes, taken minutes after the visit's start or None), for the item greeted."""
    visit_id, headers = new_id(), world["headers"][who]
    answers = {"scenario_dispute": False, "greeted": True, "courtesy": 5, **(answers or {})}
    moments = [{"moment": "entered", "at": _at(start + 1)}]
    if dwell is not None:
        moments.append({"moment": "departed", "at": _at(start + 1 + dwell)})
    photo_ids = [new_id() for _ in photos]
    body = {"store_id": world[store].id, "kind": "mystery",
            "checklist": {"slug": "integrity-check", "version": 1},
            "started_at": _at(start), "ended_at": _at(start + 45), "moments": moments,
            "responses": [{"item": item, "value": value} if not isinstance(value, tuple) else
                          {"item": item, "value": value[0], "note": value[1]}
                          for item, value in answers.items()],
            "photos": [{"id": pid, "item": "greeted",
                        "taken_at": None if taken is None else _at(start + taken)}
                       for pid, (_, taken) in zip(photo_ids, photos, strict=True)],
            "notes": notes, **extra}
    saved = client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers)
    assert saved.status_code == 201, saved.json
    for photo_id, (content, _) in zip(photo_ids, photos, strict=True):
        stored = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item=greeted",
                            data=content, headers={**headers, "Content-Type": "image/png"})
        assert stored.status_code == 201, stored.json
    submitted = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.json
    return visit_id


def flags_of(client, world, visit_id, code=None) -> list[dict]:
    """The visit's flags as the reviewer reads them (only those of `code` when given)."""
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["manager"])
    assert shown.status_code == 200, shown.json
    return [f for f in shown.json["flags"] if code is None or f["code"] == code]


def integrity_codes(client, world, visit_id) -> list[str]:
    return [f["code"] for f in flags_of(client, world, visit_id) if f["code"] in CODES]


def png(seed: int) -> bytes:
    """A real PNG; another seed, other content."""
    return picture(64, 48, "white", "PNG", texture="noise", seed=seed)


# A clean visit ---------------------------------------------------------------------------------


def test_a_clean_visit_raises_no_integrity_flag_and_a_flagged_one_is_still_published(
        client, world):
    for n in range(5):  # a usual to measure against: the z-score speaks
        send(client, world, answers={"courtesy": 4 + n % 2,
                                     "impression": f"第{n}次：员工主动问候，并耐心解释了套餐"},
             photos=[(png(n), 10)], start=-60 * 24 * (n + 1))
    clean = send(client, world, answers={
        "courtesy": 4, "impression": "大厅整洁，叫号后柜台员工办理迅速并核对了身份"},
        photos=[(png(99), 10), (png(98), None)], notes="门口保安询问了来意，大厅里排队的人不多。")
    assert integrity_codes(client, world, clean) == []

    # a flag tells the reviewer, it refuses nothing; the store's side never sees it
    flagged = send(client, world, dwell=2, photos=[(png(99), 10)])
    assert integrity_codes(client, world, flagged) == ["duplicate_photo", "short_dwell"]
    published = client.post(f"/api/v1/visits/{flagged}/review", json={"decision": "publish"},
                             headers=world["headers"]["manager"])
    assert published.status_code == 200 and published.json["status"] == "published"
    store_side = client.get(f"/api/v1/visits/{flagged}", headers=world["headers"]["supervisor"])
    assert store_side.status_code == 200 and store_side.json["flags"] == []


# duplicate_photo ---------------------------------------------------------------------------------


def test_a_photo_already_in_another_visit_is_flagged(client, world):
    first = send(client, world, photos=[(png(1), 10)])
    again = send(client, world, "other_shopper", photos=[(png(2), 10), (png(1), 12)],
                 start=60)
    fresh = send(client, world, photos=[(png(3), 10)], start=120)

    assert integrity_codes(client, world, first) == []  # it came first
    assert integrity_codes(client, world, fresh) == []
    [flag] = flags_of(client, world, again, "duplicate_photo")
    shown = client.get(f"/api/v1/visits/{again}", headers=world["headers"]["manager"]).json
    assert flag["photo_id"] == shown["photos"][1]["id"] and flag["item"] == "greeted"
    assert flag["other_visit_ids"] == [first]
    assert flag["message"] == ("“员工主动问候顾客”的照片与另一次到访的照片完全相同 / The photo "
                               "of “Staff greeted the customer” is identical to a photo of "
                               "another visit.")


def test_an_audit_gets_no_integrity_flag(client, world):
    """A supervisor's audit reaches the store at once, with no reviewer: nothing to flag to."""
    headers, ids = world["headers"]["supervisor"], []
    for _ in range(2):
        visit_id, photos = new_id(), [(new_id(), "signage"), (new_id(), "signage")]
        body = audit_body(world["store"].id, photos=photos)
        assert client.put(f"/api/v1/visits/{visit_id}", json=body,
                          headers=headers).status_code == 201
        for photo_id, item in photos:  # the same bytes each time
            upload_photo(client, headers, visit_id, item, photo_id=photo_id)
        assert client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers).status_code == 200
        ids.append(visit_id)
    assert integrity_codes(client, world, ids[1]) == []


# photo_time_outside ------------------------------------------------------------------------------


@pytest.mark.parametrize(("taken", "outside"), [
    (10, None),  # during the visit
    (-14, None),  # the storefront, just before going in (15 minutes' tolerance)
    (59, None),  # just after leaving (the visit ends at 45)
    (-20, "visit"),
    (61, "visit"),
    (-60 * 24, "visit"),  # the day before
])
def test_a_photo_taken_outside_the_visit_is_flagged(client, world, taken, outside):
    visit_id = send(client, world, photos=[(png(10), taken)])
    flags = flags_of(client, world, visit_id, "photo_time_outside")
    if outside is None:
        assert flags == []
        return
    [flag] = flags
    assert flag["outside"] == outside and flag["item"] == "greeted"
    assert datetime.fromisoformat(flag["taken_at"]) == BASE + timedelta(minutes=taken)
    local = (BASE + timedelta(minutes=taken)).strftime("%Y-%m-%d %H:%M")
    start, end = (BASE.strftime("%Y-%m-%d %H:%M"),
                  (BASE + timedelta(minutes=45)).strftime("%Y-%m-%d %H:%M"))
    assert flag["message"] == (
        f"“员工主动问候顾客”的照片拍摄于 {local}，不在到访时间 {start}–{end} 内 / The photo of "
        f"“Staff greeted the customer” was taken at {local}, outside the visit ({start}–{end}).")


@pytest.mark.parametrize(("window_starts", "flagged"), [(-60, False), (60 * 24, True)])
def test_a_photo_taken_outside_the_assignment_window_is_flagged(
        client, world, window_starts, flagged):
    """The window opens an hour before the visit (the photo is in it), or tomorrow (the visit
    and its photo came before it)."""
    opens = BASE + timedelta(minutes=window_starts)
    assignment = client.post("/api/v1/assignments", headers=world["headers"]["manager"], json={
        "store_id": world["store"].id, "checklist": "integrity-check",
        "shopper_id": world["shopper"].id, "window_start": opens.isoformat(),
        "window_end": (datetime.now(UTC) + timedelta(days=3)).isoformat()})
    assert assignment.status_code == 201, assignment.json
    visit_id = send(client, world, photos=[(png(11), 10)],
                    assignment_id=assignment.json["id"])
    flags = flags_of(client, world, visit_id, "photo_time_outside")
    assert [f["outside"] for f in flags] == (["window"] if flagged else [])
    if flagged:
        assert datetime.fromisoformat(flags[0]["window_start"]) == opens
        assert "outside the assignment window" in flags[0]["message"]
        assert "不在任务时间窗" in flags[0]["message"]


# short_dwell --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dispute", "dwell", "needed", "items"), [
    (False, 6, None, None),
    (False, 5, None, None),  # exactly the minimum
    (False, 4.5, 5, []),  # the checklist's own minimum
    (True, 16, None, None),
    (True, 12, 15, ["scenario_dispute"]),  # the dispute scenario asks for more
    (True, None, None, None),  # departed never pressed: nothing to measure
])
def test_a_visit_too_short_for_its_scenario_is_flagged(client, world, dispute, dwell, needed,
                                                       items):
    visit_id = send(client, world, answers={"scenario_dispute": dispute}, dwell=dwell)
    flags = flags_of(client, world, visit_id, "short_dwell")
    if needed is None:
        assert flags == []
        return
    assert [{k: v for k, v in f.items() if k != "message"} for f in flags] == [{
        "code": "short_dwell", "dwell_seconds": round(dwell * 60), "min_minutes": needed,
        "items": items}]
    minutes = int(dwell)
    assert flags[0]["message"] == (
        f"到访仅 {minutes} 分钟，少于该情景至少需要的 {needed} 分钟 / The visit lasted "
        f"{minutes} min, less than the {needed} min its scenario needs.")


def test_flags_are_computed_afresh_when_a_returned_visit_is_sent_again(client, world):
    visit_id = send(client, world, dwell=2)
    assert integrity_codes(client, world, visit_id) == ["short_dwell"]
    returned = client.post(f"/api/v1/visits/{visit_id}/review",
                           headers=world["headers"]["manager"],
                           json={"decision": "reject", "comment": "离开按早了？/ left early?"})
    assert returned.status_code == 200
    shopper = world["headers"]["shopper"]
    draft = client.get(f"/api/v1/visits/{visit_id}", headers=shopper).json
    body = {"store_id": draft["store_id"], "kind": "mystery", "checklist": draft["checklist"],
            "started_at": draft["started_at"], "ended_at": draft["ended_at"],
            "moments": [{"moment": "entered", "at": _at(1)}, {"moment": "departed", "at": _at(21)}],
            "responses": [{"item": r["item"], "value": r["value"]} for r in draft["responses"]],
            "revision": 1}
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper).status_code == 200
    assert client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper).status_code == 200
    assert integrity_codes(client, world, visit_id) == []


# duplicate_text -----------------------------------------------------------------------------------

TEXT = "员工主动问候，并耐心解释了两种套餐的区别，整体体验很好。"


def test_free_text_repeated_from_the_shoppers_other_visit_is_flagged(client, world):
    first = send(client, world, answers={"impression": TEXT, "courtesy": (4, "服务很好")},
                 notes="门口保安询问了来意，大厅里排队的人不多。")
    # the same words, spacing and punctuation touched up, in the answer and in the notes
    again = send(client, world, start=60, answers={
        "impression": "员工主动问候 并耐心解释了两种套餐的区别  整体体验很好!",
        "courtesy": (4, "服务很好")}, notes="门口保安询问了来意, 大厅里排队的人不多")
    # another shopper may write the same; a short phrase repeats by nature
    theirs = send(client, world, "other_shopper", start=120, answers={"impression": TEXT})
    short = send(client, world, start=180, answers={"impression": "服务很好，环境整洁。"})

    flags = flags_of(client, world, again, "duplicate_text")
    assert [(f["item"], f["field"], f["other_visit_id"]) for f in flags] == [
        ("impression", "value", first), ("notes", "notes", first)]
    assert flags[0]["message"] == (
        "“员工主动问候 并耐心解释了两种套餐的区别  整体体验很好!”与本人另一次到访的文字相同 / "
        "“员工主动问候 并耐心解释了两种套餐的区别  整体体验很好!” repeats the shopper's text of "
        "another visit.")
    for quiet in (first, theirs, short):
        assert flags_of(client, world, quiet, "duplicate_text") == [], quiet


def test_an_answer_note_repeated_in_another_visit_is_flagged(client, world):
    note = "柜台员工在办理时一直看手机，没有与顾客有目光交流"
    first = send(client, world, answers={"courtesy": (2, note)})
    again = send(client, world, start=60, answers={"greeted": (False, note)})
    assert [(f["item"], f["field"], f["other_visit_id"])
            for f in flags_of(client, world, again, "duplicate_text")] == [
        ("greeted", "note", first)]


# outlier_total ------------------------------------------------------------------------------------

LOW = {"greeted": False, "courtesy": 1}  # total 0


@pytest.mark.parametrize(("basis", "earlier", "answers", "flagged"), [
    ("shopper", 5, LOW, True),
    ("shopper", 4, LOW, False),  # too few visits to know the shopper's usual
    ("shopper", 5, {"courtesy": 4}, False),  # 87.5, within the usual
    ("store", 5, LOW, True),
    ("store", 4, LOW, False),
])
def test_a_total_far_from_the_usual_is_flagged(client, world, basis, earlier, answers, flagged):
    """Earlier visits score 100 and 87.5 in turn (mean 95 or 94.4); the shopper's are made at
    the west store, the store's by another shopper: only one usual applies at a time."""
    who, store = ("shopper", "west_store") if basis == "shopper" else ("other_shopper", "store")
    for n in range(earlier):
        send(client, world, who, store, answers={"courtesy": 5 if n % 2 == 0 else 4},
             start=-60 * 24 * (n + 1))
    visit_id = send(client, world, answers=answers)
    flags = flags_of(client, world, visit_id, "outlier_total")
    if not flagged:
        assert flags == []
        return
    [flag] = flags
    assert (flag["basis"], flag["total"], flag["mean"], flag["visits"]) == (basis, 0, 95.0, 5)
    assert flag["spread"] == 8.0 and flag["z"] == round(-95 / 8, 2)  # the spread's floor
    whose = {"shopper": ("该暗访员", "the shopper's"), "store": ("该门店", "the store's")}[basis]
    assert flag["message"] == (
        f"总分 0 远低于{whose[0]}近 5 次的平均 95.0（z = {flag['z']:+.1f}）/ The total 0 is far "
        f"below {whose[1]} usual: 95.0 on average over the last 5 visits (z = {flag['z']:+.1f}).")


def test_totals_that_never_vary_need_a_real_difference(client, world):
    """Five visits of 100: a spread of at least 8 points, so 87.5 is no outlier, 0 is."""
    for n in range(5):
        send(client, world, start=-60 * 24 * (n + 1))
    usual = send(client, world, answers={"courtesy": 4})
    assert flags_of(client, world, usual, "outlier_total") == []
    low = send(client, world, answers=LOW, start=60)
    assert {f["basis"] for f in flags_of(client, world, low, "outlier_total")} == {
        "shopper", "store"}


# The checklist's dwell minimums -------------------------------------------------------------------


def _definition(name: str) -> ChecklistDefinition:
    path = ROOT / "checklists" / name
    return load_checklist(path.read_text(encoding="utf-8"), path.name)


def test_the_shipped_mystery_checklist_sets_dwell_minimums():
    definition = _definition("mystery-visit.yaml")
    dwell = definition.interval_for("dwell")
    assert (dwell.start, dwell.end) == ("entered", "departed")
    assert definition.min_dwell_minutes == 5
    assert definition.item("scenario_transaction").min_dwell_minutes == 10
    assert definition.item("scenario_dispute").min_dwell_minutes == 15


@pytest.mark.parametrize("name", ["storefront-audit.yaml", "dispute-handling.yaml"])
def test_dwell_keys_left_unset_stay_out_of_the_plain_data(name):
    """So versions stored before the keys existed keep their identity (hash)."""
    plain = _definition(name).to_dict()
    assert "min_dwell_minutes" not in plain
    assert not any("min_dwell_minutes" in item
                   for section in plain["sections"] for item in section["items"])


def test_a_version_stored_before_the_dwell_keys_keeps_its_hash():
    plain = _definition("mystery-visit.yaml").to_dict()
    stored = {key: value for key, value in plain.items() if key != "min_dwell_minutes"}
    for section in stored["sections"]:
        for item in section["items"]:
            item.pop("min_dwell_minutes", None)
    definition = ChecklistDefinition.from_dict(stored)
    assert definition.min_dwell_minutes is None
    assert definition.to_dict() == stored
    assert definition_hash(definition) == definition_hash(ChecklistDefinition.from_dict(stored))


@pytest.mark.parametrize(("name", "problems"), [
    ("dwell_not_yes_no.yaml", [
        "dwell_not_yes_no.yaml:20: item courtesy: min_dwell_minutes: Only a yes_no scenario "
        "item sets a minimum dwell (it applies when answered yes)."]),
    ("dwell_without_interval.yaml", [
        "dwell_without_interval.yaml:5: min_dwell_minutes: A minimum dwell needs an interval "
        "of role dwell (entering to leaving).",
        "dwell_without_interval.yaml:18: item scenario_dispute: min_dwell_minutes: A minimum "
        "dwell needs an interval of role dwell (entering to leaving)."]),
    ("dwell_out_of_range.yaml", [
        "dwell_out_of_range.yaml:5: min_dwell_minutes: Must be between 1 and 480 minutes."]),
])
def test_a_broken_dwell_minimum_is_refused_with_a_precise_message(name, problems):
    with pytest.raises(ChecklistError) as refused:
        load_checklist((BROKEN / name).read_text(encoding="utf-8"), name)
    assert refused.value.problems == problems
