"""What a store manager (厅主任/店长) may do, endpoint by endpoint, and what it never learns: a
mystery shopper's identity.

The authorization matrix walks the app's OpenAPI document: every operation has an entry in
MATRIX (a new endpoint without one fails the test), called as the store manager for an object of
its own store and for objects out of its scope (a neighbouring store of the same region, and an
unpublished mystery visit of its own store): reads out of scope are 404, forbidden writes 403,
allowed calls succeed."""

import base64
import io
import json
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from supervision.db import db
from tests.conftest import bearer, password_hash, saved
from tests.followup_helpers import upload_photo
from tests.images import bilevel_png, picture
from tests.visit_support import DATA, audit_body, mystery_body, new_id

# The mystery shopper: an id, a name and an address that appear nowhere else.
SHOPPER_ID = 918273
SHOPPER_NAME = "甄秘访"
SHOPPER_EMAIL = "zhen.mifang.incognito@example.com"
# What the store version leaves out besides: where the shopper stood, the reviewer's word and
# the reviewer's flags.
SHOPPER_SPOT = {"lat": 31.3051, "lon": 121.5102, "accuracy_m": 7.5}
REVIEW_COMMENT = "审核备注: 暗访员证据充分 / reviewer's note"
SECRETS = (SHOPPER_NAME, SHOPPER_EMAIL, str(SHOPPER_ID), "31.3051", "121.5102",
           REVIEW_COMMENT, "far_from_store", "outside_window")

LIST = "list"  # 200, and only objects of the store manager's stores
# (method, path) → the store manager's status: one number for an operation on no object;
# (its own store's object, an object out of its scope) otherwise; LIST for a list. None: no
# such object can exist for it (a background job is its creator's).
MATRIX = {
    ("post", "/api/v1/auth/token"): 200,
    ("get", "/api/v1/me"): 200,
    ("post", "/api/v1/me/logout-everywhere"): 204,
    ("get", "/api/v1/regions"): LIST,
    ("get", "/api/v1/stores"): LIST,
    ("get", "/api/v1/stores/{store_id}"): (200, 404),
    ("get", "/api/v1/checklists"): 200,
    ("post", "/api/v1/checklists"): 403,
    ("get", "/api/v1/checklists/{slug}"): 200,
    ("get", "/api/v1/checklists/{slug}/versions/{number}"): 200,
    # administration: none of it
    ("get", "/api/v1/admin/regions"): 403,
    ("post", "/api/v1/admin/regions"): 403,
    ("patch", "/api/v1/admin/regions/{region_id}"): (403, 403),
    ("get", "/api/v1/admin/stores"): 403,
    ("post", "/api/v1/admin/stores"): 403,
    ("get", "/api/v1/admin/stores/{store_id}"): (403, 403),
    ("patch", "/api/v1/admin/stores/{store_id}"): (403, 403),
    ("get", "/api/v1/admin/users"): 403,
    ("post", "/api/v1/admin/users"): 403,
    ("get", "/api/v1/admin/users/{user_id}"): (403, 403),
    ("patch", "/api/v1/admin/users/{user_id}"): (403, 403),
    ("post", "/api/v1/admin/users/{user_id}/password"): (403, 403),
    ("post", "/api/v1/admin/imports/{kind}"): 403,
    ("get", "/api/v1/admin/audit"): 403,
    ("post", "/api/v1/checklists/{slug}/retire"): 403,
    ("post", "/api/v1/checklists/{slug}/restore"): 403,
    ("get", "/api/v1/checklists/{slug}/versions"): 403,
    ("get", "/api/v1/checklists/{slug}/diff"): 403,
    ("get", "/api/v1/exports/{what}.{fmt}"): 403,
    # mystery shopping is planned and reviewed without the store
    ("get", "/api/v1/assignments"): 403,
    ("post", "/api/v1/assignments"): 403,
    ("get", "/api/v1/assignments/{assignment_id}"): (403, 403),
    ("patch", "/api/v1/assignments/{assignment_id}"): (403, 403),
    ("post", "/api/v1/visits/{visit_id}/review"): (403, 403),
    # its queries of a published mystery result, with photos; the ruling is the reviewer's
    ("get", "/api/v1/queries"): LIST,
    ("get", "/api/v1/visits/{visit_id}/queries"): (200, 404),
    ("post", "/api/v1/visits/{visit_id}/queries"): (201, 404),
    ("get", "/api/v1/queries/{query_id}"): (200, 404),
    ("patch", "/api/v1/queries/{query_id}"): (403, 403),
    ("get", "/api/v1/queries/{query_id}/evidence/{photo_id}"): (200, 404),
    ("put", "/api/v1/queries/{query_id}/evidence/{photo_id}"): (201, 404),
    # the shoppers' track record (the reviewer's grades, flag history): managers only
    ("put", "/api/v1/visits/{visit_id}/grade"): (403, 403),
    ("get", "/api/v1/shoppers"): 403,
    # its actions: read, agree, dismiss, mark done with evidence; never create or approve
    ("get", "/api/v1/actions"): LIST,
    ("post", "/api/v1/actions"): 403,
    ("get", "/api/v1/actions/{action_id}"): (200, 404),
    ("patch", "/api/v1/actions/{action_id}"): (200, 404),
    ("put", "/api/v1/actions/{action_id}/evidence/{photo_id}"): (201, 404),
    ("get", "/api/v1/actions/{action_id}/evidence/{photo_id}"): (200, 404),
    ("post", "/api/v1/actions/{action_id}/decision"): (403, 403),
    # disputes: read only
    ("get", "/api/v1/disputes"): LIST,
    ("post", "/api/v1/disputes"): 403,
    ("get", "/api/v1/disputes/{dispute_id}"): (200, 404),
    ("patch", "/api/v1/disputes/{dispute_id}"): (403, 403),
    # published visits of its stores, in the store version; it records none
    ("get", "/api/v1/visits"): LIST,
    ("get", "/api/v1/visits/{visit_id}"): (200, 404),
    ("put", "/api/v1/visits/{visit_id}"): (403, 403),
    ("post", "/api/v1/visits/{visit_id}/submit"): (403, 403),
    # the versions of a visit would show the shopper's edits: not for the store
    ("get", "/api/v1/visits/{visit_id}/submissions"): (404, 404),
    # the change record, store side: only the answers corrected on its queries, by no one named
    ("get", "/api/v1/visits/{visit_id}/history"): (200, 404),
    ("get", "/api/v1/visits/{visit_id}/photos/{photo_id}"): (200, 404),
    ("put", "/api/v1/visits/{visit_id}/photos/{photo_id}"): (403, 403),
    ("post", "/api/v1/visits/{visit_id}/signoff"): (200, 404),
    ("get", "/api/v1/visits/{visit_id}/signoff/signature"): (200, 404),
    # reports: its visits (store version) and its stores, never a region
    ("get", "/api/v1/visits/{visit_id}/report.pdf"): (200, 404),
    ("get", "/api/v1/visits/{visit_id}/report.html"): (200, 404),
    ("get", "/api/v1/stores/{store_id}/report.pdf"): (200, 404),
    ("get", "/api/v1/stores/{store_id}/report.html"): (200, 404),
    ("get", "/api/v1/regions/{region_id}/report.pdf"): (403, 403),
    ("get", "/api/v1/regions/{region_id}/report.html"): (403, 403),
    # calibration rates the raters: managers' business
    ("get", "/api/v1/visits/{visit_id}/calibration"): (403, 403),
    ("get", "/api/v1/calibration"): 403,
    ("get", "/api/v1/jobs/{job_id}"): (None, 404),
    # its own notifications
    ("get", "/api/v1/notifications"): LIST,
    ("patch", "/api/v1/notifications/{notification_id}"): (200, 404),
    ("post", "/api/v1/notifications/read"): 200,
    # its stores' staff rosters
    ("get", "/api/v1/stores/{store_id}/staff"): (200, 404),
    ("post", "/api/v1/stores/{store_id}/staff"): (201, 404),
    ("patch", "/api/v1/staff/{staff_id}"): (200, 404),
    # visit plans: managers' and supervisors' (an audit is not announced to the store)
    ("get", "/api/v1/plans"): 403,
    ("post", "/api/v1/plans"): 403,
    ("get", "/api/v1/plans/{plan_id}"): (403, 403),
    ("patch", "/api/v1/plans/{plan_id}"): (403, 403),
    ("get", "/api/v1/due-visits"): 403,
    ("get", "/api/v1/supervisors"): 403,
    ("get", "/api/v1/waves"): 403,
    ("post", "/api/v1/waves"): 403,
    ("get", "/api/v1/waves/{wave_id}"): (403, 403),
    ("post", "/api/v1/waves/{wave_id}/confirm"): (403, 403),
    ("get", "/api/v1/coverage"): 403,
    # data out: integrations' keys are an admin's; the feed is for the regions' side
    ("get", "/api/v1/api-keys"): 403,
    ("post", "/api/v1/api-keys"): 403,
    ("delete", "/api/v1/api-keys/{key_id}"): (403, 403),
    ("get", "/api/v1/api-keys/{key_id}/uses"): (403, 403),
    ("get", "/api/v1/feed/{what}"): 403,
    ("get", "/api/v1/dashboard"): 403,
    ("get", "/api/v1/webhooks"): 403,
    ("post", "/api/v1/webhooks"): 403,
    ("get", "/api/v1/webhooks/{hook_id}"): (403, 403),
    ("patch", "/api/v1/webhooks/{hook_id}"): (403, 403),
    ("delete", "/api/v1/webhooks/{hook_id}"): (403, 403),
    ("get", "/api/v1/webhooks/{hook_id}/deliveries"): (403, 403),
    ("post", "/api/v1/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver"): (403, 403),
}
# The lists that take a store_id filter.
FILTERED = ("/api/v1/visits", "/api/v1/actions", "/api/v1/disputes", "/api/v1/queries")
# Sent last: it ends the store manager's sessions.
LAST = ("post", "/api/v1/me/logout-everywhere")
JPEG = picture(64, 48, "orange", "JPEG", gps=True)
SIGNATURE = "data:image/png;base64," + base64.b64encode(bilevel_png(300, 120)).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ago(**delta) -> str:
    """A recent time, inside the store report's default period."""
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.json


# The world ------------------------------------------------------------------------------------


@pytest.fixture
def world(app, client, make_world):
    """The store manager's store E1 and its neighbour E2 (same region, another store manager),
    each with a published audit (signed on the tablet), photos, a dispute, a roster and actions
    proposed and agreed (with evidence); in E1 a published mystery visit made by the shopper for
    an assignment, from far away, reviewed with a comment, and a second one still submitted."""
    world = make_world(
        checklists=(DATA / "audit.yaml", DATA / "mystery.yaml"),
        stores={"store": {"region": "east", "code": "E1", "lat": 31.2387, "lon": 121.481,
                          "geofence_m": 200, "manager_name": "王店长"},
                "neighbour": {"region": "east", "code": "E2", "manager_name": "赵店长"}},
        people={"admin": "admin", "manager": ("manager", "east"),
                "supervisor": ("supervisor", "east"),
                "store_manager": {"role": "store_manager", "stores": ["store"]},
                "neighbour_manager": {"role": "store_manager", "stores": ["neighbour"]}})
    world["shopper"] = _shopper(app, world["east"])
    world["headers"]["shopper"] = bearer(app, world["shopper"])
    for name in ("store", "neighbour"):
        _store_data(app, client, world, name)
    _mystery_visits(app, client, world)
    _notifications_and_job(app, world)
    return world


def _shopper(app, region):
    from supervision.accounts.models import User
    from supervision.stores.models import Region

    with app.app_context():
        user = User(id=SHOPPER_ID, email=SHOPPER_EMAIL, name=SHOPPER_NAME, role="shopper",
                    regions=[db.session.get(Region, region.id)])
        user.password_hash = password_hash("secret-pw")
        return saved(app, user)


def _store_data(app, client, world, name):
    """A published audit of the store with two photos, signed on the supervisor's tablet; a
    dispute; a staff member; a proposed and an agreed action, the agreed one with evidence."""
    from supervision.followup.models import Action
    from supervision.stores.models import Staff

    store, supervisor = world[name], world["headers"]["supervisor"]
    photos = [(new_id(), "signage"), (new_id(), "signage")]
    audit = new_id()
    body = audit_body(store.id, {"signage": False, "tidy": 2, "has_queue": False,
                                 "argues": False}, photos, started_at=_ago(hours=26),
                      ended_at=_ago(hours=25))
    _ok(client.put(f"/api/v1/visits/{audit}", json=body, headers=supervisor), 201)
    for photo_id, item in photos:
        upload_photo(client, supervisor, audit, item, photo_id=photo_id)
    _ok(client.post(f"/api/v1/visits/{audit}/submit", headers=supervisor))
    _ok(client.post(f"/api/v1/visits/{audit}/signoff", headers=supervisor, json={
        "name": store.manager_name, "signature": SIGNATURE, "signed_at": _now()}))
    dispute = _ok(client.post("/api/v1/disputes", headers=supervisor, json={
        "store_id": store.id, "category": "service", "matter": "顾客投诉排队太久",
        "first_handler": "李明", "received_at": _now()}), 201)
    with app.app_context():
        staff = Staff(store_id=store.id, name=f"{store.code} 员工", badge=f"{store.code}-01",
                      position="营业员")
        due = date.today() + timedelta(days=7)
        proposed = Action(store_id=store.id, title="门头保洁", status="proposed", due_date=due,
                          owner=store.manager_name)
        agreed = Action(store_id=store.id, title="厅内整理", status="agreed", due_date=due,
                        owner_staff=staff, agreed_at=datetime.now(UTC))
        db.session.add_all([staff, proposed, agreed])
        db.session.commit()
        ids = {"staff": staff.id, "proposed": proposed.id, "agreed": agreed.id}
    evidence = new_id()
    _ok(client.put(f"/api/v1/actions/{ids['agreed']}/evidence/{evidence}", data=JPEG,
                   query_string={"taken_at": _now()}, content_type="image/jpeg",
                   headers=world["headers"]["admin"]), 201)
    world[f"{name}_objects"] = {"audit": audit, "photo": photos[0][0], "dispute": dispute["id"],
                                "evidence": evidence, **ids}


def _mystery_visits(app, client, world):
    """The shopper's visit for an assignment, sent from far away outside the window, with a
    photo carrying GPS data; published by the manager with a comment. A second visit of the
    shopper stays submitted: unpublished, it does not exist for the store."""
    store, headers = world["store"], world["headers"]
    shopper, manager = headers["shopper"], headers["manager"]
    start = datetime.now(UTC) + timedelta(days=1)
    assignment = _ok(client.post("/api/v1/assignments", headers=manager, json={
        "store_id": store.id, "checklist": "test-mystery", "shopper_id": SHOPPER_ID,
        "window_start": start.isoformat(), "window_end": (start + timedelta(days=3)).isoformat(),
        "scenario": "咨询套餐"}), 201)
    visits = {}
    for name, extra in (("mystery", {"assignment_id": assignment["id"]}), ("hidden", {})):
        visit_id, photo_id = new_id(), new_id()
        body = mystery_body(store.id, location=SHOPPER_SPOT, notes="门口有保安。",
                            started_at=_ago(hours=5), ended_at=_ago(hours=4),
                            moments=[{"moment": "entered", "at": _ago(hours=5)},
                                     {"moment": "ticket_taken", "at": _ago(hours=5, minutes=-1)},
                                     {"moment": "called", "at": _ago(hours=4, minutes=50)}],
                            photos=[{"id": photo_id, "item": "greeted",
                                     "location": SHOPPER_SPOT}],
                            responses=[{"item": "greeted", "value": False},
                                       {"item": "courtesy", "value": 2}], **extra)
        _ok(client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper), 201)
        _ok(client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item=greeted", data=JPEG,
                       content_type="image/jpeg", headers=shopper), 201)
        _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
        visits[name], visits[f"{name}_photo"] = visit_id, photo_id
    _ok(client.post(f"/api/v1/visits/{visits['mystery']}/review", headers=manager,
                    json={"decision": "publish", "comment": REVIEW_COMMENT}))
    internal = _ok(client.get(f"/api/v1/visits/{visits['mystery']}", headers=manager))
    assert {f["code"] for f in internal["flags"]} >= {"far_from_store", "outside_window"}
    assert internal["author_id"] == SHOPPER_ID and internal["reviewed_by_id"]
    assert internal["photos"][0]["location"] == SHOPPER_SPOT
    world["assignment"] = assignment["id"]
    world["store_objects"].update(visits)
    _queries(app, client, world)


def _queries(app, client, world):
    """The store manager queries an item of the published visit with a photo (open); a query
    of the unpublished visit (made by hand: the store cannot) stands for one out of scope."""
    from supervision.followup.models import Query

    own = world["store_objects"]
    photo = new_id()
    query = _ok(client.post(f"/api/v1/visits/{own['mystery']}/queries",
                            headers=world["headers"]["store_manager"],
                            json={"item": "courtesy", "reason": "店员全程微笑接待，有监控为证",
                                  "evidence": [photo]}), 201)
    _ok(client.put(f"/api/v1/queries/{query['id']}/evidence/{photo}", data=JPEG,
                   content_type="image/jpeg", headers=world["headers"]["store_manager"]), 201)
    with app.app_context():
        hidden = Query(visit_id=uuid.UUID(own["hidden"]), item_id="courtesy", reason="–",
                       status="open", raised_by_id=world["admin"].id, body_hash="-")
        db.session.add(hidden)
        db.session.commit()
        own.update(query=query["id"], query_photo=photo, hidden_query=hidden.id)


def _notifications_and_job(app, world):
    from supervision.accounts.models import User
    from supervision.jobs.models import Job
    from supervision.notifications.services import notify

    with app.app_context():
        for name in ("store_manager", "neighbour_manager"):
            [made] = notify([db.session.get(User, world[name].id)], "visit_published",
                            lambda: ("门店通知", "请查看"), "/api/v1/visits")
            world[f"{name}_notification"] = made.id
        job = Job(id=uuid.uuid4().hex, kind="region_report", created_by_id=world["manager"].id,
                  params={"region_id": world["east"].id})
        db.session.add(job)
        db.session.commit()
        world["job"] = job.id


# Calling an operation -------------------------------------------------------------------------


def scopes(world) -> dict:
    """The path values of each scope: its own store, the neighbour, and its own store's
    unpublished mystery visit. Besides the path's names: the signed audit (for the signature),
    the agreed action and its evidence (for the evidence and the decision)."""
    own, other = world["store_objects"], world["neighbour_objects"]
    common = {"slug": "test-audit", "number": "1", "kind": "users", "what": "visits",
              "fmt": "csv", "plan_id": 1, "wave_id": 1, "key_id": 1,
              "hook_id": 1, "delivery_id": 1}
    inside = {**common, "store_id": world["store"].id, "region_id": world["east"].id,
              "visit_id": own["mystery"], "photo_id": own["mystery_photo"],
              "action_id": own["proposed"], "dispute_id": own["dispute"],
              "staff_id": own["staff"], "assignment_id": world["assignment"],
              "user_id": world["store_manager"].id, "job_id": None,
              "notification_id": world["store_manager_notification"],
              "signed_visit": own["audit"], "agreed_action": own["agreed"],
              "evidence": own["evidence"], "query_id": own["query"],
              "query_photo": own["query_photo"]}
    outside = {**common, "store_id": world["neighbour"].id, "region_id": world["west"].id,
               "visit_id": other["audit"], "photo_id": other["photo"],
               "action_id": other["proposed"], "dispute_id": other["dispute"],
               "staff_id": other["staff"], "assignment_id": world["assignment"],
               "user_id": world["admin"].id, "job_id": world["job"],
               "notification_id": world["neighbour_manager_notification"],
               "signed_visit": other["audit"], "agreed_action": other["agreed"],
               "evidence": other["evidence"], "query_id": own["hidden_query"],
               "query_photo": own["query_photo"]}
    hidden = {**outside, "visit_id": own["hidden"], "photo_id": own["hidden_photo"],
              "signed_visit": own["hidden"]}
    return {"own store": inside, "neighbour": outside, "unpublished mystery visit": hidden}


def path_values(method: str, template: str, values: dict) -> dict:
    """The scope's values for one operation: the signature is a signed audit's; the evidence
    and the decision concern the agreed action (a new evidence id to send one)."""
    values = dict(values)
    if template.endswith("/signoff/signature"):
        values["visit_id"] = values["signed_visit"]
    if template.startswith("/api/v1/queries/") and "/evidence/" in template:
        values["photo_id"] = new_id() if method == "put" else values["query_photo"]
    elif "/evidence/" in template or template.endswith("/decision"):
        values["action_id"] = values["agreed_action"]
        values["photo_id"] = new_id() if method == "put" else values["evidence"]
    return values


def body_of(method: str, template: str, world) -> dict:
    """A valid body for the calls a store manager may make; forbidden ones get {} (the role is
    refused before the body is read)."""
    bodies = {
        ("post", "/api/v1/auth/token"): {"email": world["store_manager"].email,
                                         "password": "secret-pw"},
        ("patch", "/api/v1/actions/{action_id}"): {
            "status": "agreed", "owner_staff_id": world["store_objects"]["staff"]},
        ("post", "/api/v1/visits/{visit_id}/signoff"): {
            "name": "王店长", "comment": "已阅", "signed_at": _now()},
        ("patch", "/api/v1/notifications/{notification_id}"): {"read": True},
        ("post", "/api/v1/stores/{store_id}/staff"): {"name": "新员工", "badge": "N-7",
                                                      "position": "营业员"},
        ("patch", "/api/v1/staff/{staff_id}"): {"position": "值班长"},
        ("post", "/api/v1/visits/{visit_id}/queries"): {
            "item": "greeted", "reason": "进门即被问候，有监控为证"},
    }
    return bodies.get((method, template), {} if method != "get" else None)


def call(client, world, method: str, template: str, values: dict | None = None,
         query: dict | None = None):
    path = _path(template, values or {})
    headers = dict(world["headers"]["store_manager"])
    if method == "put" and ("/photos/" in template or "/evidence/" in template):
        query = {"taken_at": _now()} if "/evidence/" in template else {"item": "greeted"}
        return read(client.put(path, data=JPEG, content_type="image/jpeg", headers=headers,
                               query_string=query))
    body = body_of(method, template, world)
    if template == "/api/v1/auth/token":
        headers = {}
    return read(client.open(path, method=method.upper(), json=body, headers=headers,
                            query_string=query))


def read(answer):
    """The answer read whole and closed (a file sent is closed with it)."""
    answer.get_data()
    answer.close()
    return answer


@pytest.fixture
def operations(client):
    document = client.get("/api/v1/openapi.json").json
    return [(method, path) for path, item in document["paths"].items()
            for method in item if method != "parameters"]


# The matrix -----------------------------------------------------------------------------------


def test_every_endpoint_as_a_store_manager_in_and_out_of_scope(app, client, world, operations):
    missing = [f"{m.upper()} {p}" for m, p in operations if (m, p) not in MATRIX]
    assert not missing, f"no entry in MATRIX for: {missing}"
    stale = [f"{m.upper()} {p}" for m, p in MATRIX if (m, p) not in operations]
    assert not stale, f"MATRIX names operations the app does not have: {stale}"

    failures = []
    for method, template in sorted(operations, key=lambda op: op == LAST):
        expected = MATRIX[(method, template)]
        if expected == LIST:
            failures += check_list(app, client, world, template)
        elif isinstance(expected, int):
            got = call(client, world, method, template, scopes(world)["own store"]).status_code
            if got != expected:
                failures.append(f"{method.upper()} {template}: {got}, not {expected}")
        else:
            failures += check_scopes(client, world, method, template, expected)
    assert not failures, "\n".join(failures)


def check_scopes(client, world, method, template, expected) -> list[str]:
    failures = []
    for label, values in scopes(world).items():
        if label == "unpublished mystery visit" and "{visit_id}" not in template:
            continue
        status = expected[0] if label == "own store" else expected[1]
        if status is None:
            continue
        answer = call(client, world, method, template, path_values(method, template, values))
        if answer.status_code != status:
            failures.append(f"{method.upper()} {template} ({label}): {answer.status_code}, not "
                            f"{status}: {answer.get_data(as_text=True)[:200]}")
        elif status >= 400 and (answer.json or {}).get("code") != status:
            failures.append(f"{method.upper()} {template} ({label}): not the JSON error shape")
    return failures


def check_list(app, client, world, template) -> list[str]:
    """The list, unfiltered and filtered on the neighbour: only the store manager's own."""
    allowed = {
        "/api/v1/regions": ("id", {world["east"].id}),
        "/api/v1/stores": ("id", {world["store"].id}),
        "/api/v1/notifications": ("id", _notification_ids(app, world["store_manager"])),
        "/api/v1/queries": ("visit_id", {world["store_objects"]["mystery"]}),
    }.get(template, ("store_id", {world["store"].id}))
    failures = []
    filters = ({}, {"store_id": world["neighbour"].id}) if template in FILTERED else ({},)
    for query in filters:
        answer = client.get(template, query_string=query,
                            headers=world["headers"]["store_manager"])
        if answer.status_code != 200:
            failures.append(f"GET {template}?{query}: {answer.status_code}, not 200")
            continue
        key, ids = allowed
        strays = [row for row in answer.json if row[key] not in ids]
        if strays:
            failures.append(f"GET {template}?{query} shows what is not its own: {strays}")
        if not query and not answer.json:
            failures.append(f"GET {template}: empty, so it proves nothing")
    if template == "/api/v1/visits":
        seen = {row["id"] for row in client.get(
            template, headers=world["headers"]["store_manager"]).json}
        own = world["store_objects"]
        if seen != {own["audit"], own["mystery"]}:
            failures.append(f"GET /api/v1/visits: {seen}, not its published audit and mystery "
                            "visit")
    return failures


def _notification_ids(app, user) -> set[int]:
    from sqlalchemy import select

    from supervision.notifications.models import Notification

    with app.app_context():
        return set(db.session.scalars(select(Notification.id)
                                      .where(Notification.user_id == user.id)))


def test_a_store_manager_reads_no_internal_report_and_approves_no_fix(client, world):
    headers = world["headers"]["store_manager"]
    own = world["store_objects"]
    internal = client.get(f"/api/v1/visits/{own['mystery']}/report.pdf?audience=internal",
                          headers=headers)
    assert internal.status_code == 403
    done = client.patch(f"/api/v1/actions/{own['agreed']}", headers=headers,
                        json={"status": "done", "note": "已整改"})
    assert done.status_code == 200, done.json
    for attempt in (client.patch(f"/api/v1/actions/{own['agreed']}", headers=headers,
                                 json={"status": "verified"}),
                    client.post(f"/api/v1/actions/{own['agreed']}/decision", headers=headers,
                                json={"decision": "approve", "comment": "自己批准"})):
        assert attempt.status_code in (403, 422), attempt.json
    action = client.get(f"/api/v1/actions/{own['agreed']}", headers=headers).json
    assert action["status"] == "done" and action["decided_at"] is None


# Identity -------------------------------------------------------------------------------------


def test_a_mystery_shopper_never_reaches_the_store_manager(app, client, world, tmp_path):
    """Everything the store manager may fetch about the published mystery visit — the visit and
    the lists, its photo, its actions, the store-version PDFs, its notifications (an action of
    the visit agreed, done with evidence and rejected) — names neither the shopper nor the
    reviewer, nor where the shopper stood."""
    own, headers = world["store_objects"], world["headers"]["store_manager"]
    _action_of_the_visit_rejected(app, client, world)
    _ok(client.patch(f"/api/v1/queries/{own['query']}", headers=world["headers"]["manager"],
                     json={"ruling": "amend", "value": 4, "comment": "复核后更正为 4 分"}))

    document = _ok(client.get(f"/api/v1/visits/{own['mystery']}", headers=headers))
    assert {key: document[key] for key in ("author_id", "assignment_id", "location", "flags",
                                           "reviewed_by_id", "review_comment")} == {
        "author_id": None, "assignment_id": None, "location": None, "flags": [],
        "reviewed_by_id": None, "review_comment": None}

    fetched = {}
    inside = scopes(world)["own store"]
    for (method, template), expected in MATRIX.items():
        if method != "get" or expected not in (200, LIST) and (
                not isinstance(expected, tuple) or expected[0] != 200):
            continue
        values = path_values(method, template, inside)
        languages = ("zh", "en") if "/report." in template else (None,)
        for lang in languages:
            answer = call(client, world, method, template, values,
                          query={"lang": lang} if lang else None)
            assert answer.status_code == 200, (template, answer.get_data(as_text=True)[:300])
            fetched[template + (f" ({lang})" if lang else "")] = readable(answer, tmp_path)
    told = _ok(client.get("/api/v1/notifications", headers=headers))
    assert {"action_rejected", "action_due"} <= {n["kind"] for n in told}
    assert "照片看不清" in fetched["/api/v1/notifications"]  # why its fix was rejected

    for report in ("/api/v1/visits/{visit_id}/report.pdf (zh)",
                   "/api/v1/stores/{store_id}/report.pdf (zh)"):
        assert "测试营业厅" in fetched[report] and "主动问候" in fetched[report], report
    leaks = [(what, secret) for what, text in fetched.items() for secret in SECRETS
             if secret in text]
    assert not leaks, leaks


def _path(template: str, values: dict) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def readable(answer, tmp_path: Path) -> str:
    """The answer as a reader sees it: headers, and JSON, HTML or the PDF's text and metadata;
    an image must carry no metadata at all (no EXIF, no GPS)."""
    head = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    if answer.mimetype == "application/pdf":
        path = tmp_path / f"{uuid.uuid4().hex}.pdf"
        path.write_bytes(answer.data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
        return f"{head}\n{text}\n{info}"
    if answer.mimetype.startswith("image/"):
        image = Image.open(io.BytesIO(answer.data))
        assert not image.getexif(), "an image reached the store with its EXIF data"
        return head
    if answer.is_json:
        return f"{head}\n{json.dumps(answer.json, ensure_ascii=False)}"
    return f"{head}\n{answer.get_data(as_text=True)}"


def _action_of_the_visit_rejected(app, client, world):
    """The mystery visit's own action, as the store closes it: agreed with an owner from the
    roster, done with a photo, rejected by the supervisor (the store manager is told why), due
    again a week later (the store manager is reminded)."""
    from supervision.followup.escalation import sweep
    from supervision.followup.models import Action

    own, headers = world["store_objects"], world["headers"]["store_manager"]
    with app.app_context():
        action = Action(store_id=world["store"].id, visit_id=uuid.UUID(own["mystery"]),
                        item_id="greeted", title="主动问候顾客", status="proposed",
                        due_date=date.today() + timedelta(days=7), owner="王店长")
        db.session.add(action)
        db.session.commit()
        action_id = action.id
    _ok(client.patch(f"/api/v1/actions/{action_id}", headers=headers,
                     json={"status": "agreed", "owner_staff_id": own["staff"]}))
    _ok(client.put(f"/api/v1/actions/{action_id}/evidence/{new_id()}", data=JPEG,
                   query_string={"taken_at": _now()}, content_type="image/jpeg",
                   headers=headers), 201)
    _ok(client.patch(f"/api/v1/actions/{action_id}", headers=headers,
                     json={"status": "done", "note": "已培训员工主动问候"}))
    _ok(client.post(f"/api/v1/actions/{action_id}/decision",
                    headers=world["headers"]["supervisor"],
                    json={"decision": "reject", "comment": "照片看不清，请重拍"}))
    with app.app_context():  # a week later, the reopened action reminds the store manager
        assert sweep(datetime.now(UTC) + timedelta(days=8))["reminded"]
        db.session.commit()
    own["proposed"] = action_id  # the walk reads this action
