"""State transitions sent at the same moment through a real server: of two crossing decisions
exactly one wins, the other gets 409 naming the state that won, and only the winner leaves
notifications and audit records (issue 15)."""

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.servers import DEADLINE
from tests.visit_support import VISIT_WORLD, live_server, mystery_body, new_id

PAIRS = 20  # crossing pairs per test: the number for review decisions
NOW = datetime.now(UTC)


@pytest.fixture
def world(make_world):
    return make_world(**{**VISIT_WORLD, "people": {
        **VISIT_WORLD["people"], "other_manager": ("manager", "east")}})


@pytest.fixture
def server(app, database_url, tmp_path):
    """A real server process on the test's database; yields its base URL."""
    with live_server(database_url, tmp_path / "photos", tmp_path / "server.log") as (_, base):
        yield base


def crossing(base: str, *requests_) -> list[tuple[int, dict]]:
    """Send (method, path, headers, body) requests at the same moment, each on a connection
    opened beforehand; their (status, JSON body), in order."""
    parts, barrier = urlsplit(base), threading.Barrier(len(requests_))

    def send(method, path, headers, body):
        connection = HTTPConnection(parts.hostname, parts.port, timeout=DEADLINE)
        try:
            connection.connect()
            barrier.wait(timeout=DEADLINE)
            if body is not None:
                headers = {**headers, "Content-Type": "application/json"}
            connection.request(method, path, None if body is None else json.dumps(body), headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    with ThreadPoolExecutor(len(requests_)) as pool:
        return list(pool.map(lambda request: send(*request), requests_))


def audit_actions(app, entity: str, entity_id) -> list[str]:
    from supervision.audit.models import AuditEntry

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)))


# Review decisions ------------------------------------------------------------------------------

def _submitted(make_visit, world):
    return make_visit(world["store"], world["shopper"], "test-mystery", status="submitted")


def _review(visit_id, headers, decision):
    comment = f"{decision}: 审核意见 / reviewer's comment"
    return ("POST", f"/api/v1/visits/{visit_id}/review", headers,
            {"decision": decision, "comment": comment})


def _notified(app, visit_id) -> list[tuple[int, str]]:
    from supervision.notifications.models import Notification

    with app.app_context():
        return list(db.session.execute(select(Notification.user_id, Notification.kind).where(
            Notification.link == f"/api/v1/visits/{visit_id}").order_by(Notification.user_id)))


def test_crossing_publish_and_reject_have_exactly_one_winner(app, world, make_visit, server):
    from supervision.visits.models import Visit

    headers = world["headers"]
    managers = sorted([world["manager"].id, world["other_manager"].id])
    for n in range(PAIRS):
        visit_id = _submitted(make_visit, world)
        # who sends which decision alternates, so that either may be first through the door
        first, second = ("manager", "other_manager")[::1 if n % 2 else -1]
        (publish, _), (reject, _) = answers = crossing(
            server, _review(visit_id, headers[first], "publish"),
            _review(visit_id, headers[second], "reject"))
        assert sorted([publish, reject]) == [200, 409], answers
        won = "published" if publish == 200 else "rejected"
        lost = answers[1 if publish == 200 else 0][1]
        assert lost["errors"]["json"]["decision"] == [f"The visit is {won}."], lost
        assert won in lost["message"]
        with app.app_context():
            visit = db.session.get(Visit, visit_id)
            assert visit.status == won
            assert visit.review_comment.startswith("publish" if won == "published" else "reject")
            assert (visit.published_at is not None) == (won == "published")
        if won == "published":
            assert _notified(app, visit_id) == [(m, "visit_published") for m in managers]
        else:
            assert _notified(app, visit_id) == [(world["shopper"].id, "visit_rejected")]
        assert audit_actions(app, "visit", visit_id) == ["publish" if publish == 200 else "reject"]


def test_the_same_decision_crossing_itself_is_taken_once(app, world, make_visit, server):
    headers = world["headers"]
    for decision in ("publish", "reject") * 5:
        visit_id = _submitted(make_visit, world)
        answers = crossing(server, _review(visit_id, headers["manager"], decision),
                           _review(visit_id, headers["other_manager"], decision))
        assert [status for status, _ in answers] == [200, 200], answers
        assert answers[0][1] == answers[1][1]
        assert audit_actions(app, "visit", visit_id) == [decision]
        assert len(_notified(app, visit_id)) == (2 if decision == "publish" else 1)


# Corrective actions --------------------------------------------------------------------------

def _proposed_action(app, world) -> tuple[int, int]:
    """A proposal and the person of the store's roster to agree it with: (action, staff)."""
    from supervision.followup.models import Action
    from supervision.stores.models import Staff

    with app.app_context():
        staff = Staff(store_id=world["store"].id, name="王主任")
        action = Action(store_id=world["store"].id, title="整改：工牌 / Fix: badges",
                        owner="王主任", due_date=date.today() + timedelta(days=7),
                        status="proposed")
        db.session.add_all([staff, action])
        db.session.commit()
        return action.id, staff.id


def test_crossing_confirm_and_dismiss_of_an_action_have_one_winner(app, world, server):
    from supervision.followup.models import Action

    headers = world["headers"]
    for _ in range(PAIRS // 2):
        action_id, staff_id = _proposed_action(app, world)
        path = f"/api/v1/actions/{action_id}"
        agree = {"status": "agreed", "owner_staff_id": staff_id}
        dismiss = {"status": "dismissed", "reason": "已整改 / already fixed"}
        answers = crossing(server, ("PATCH", path, headers["supervisor"], agree),
                           ("PATCH", path, headers["manager"], dismiss))
        assert sorted(status for status, _ in answers) == [200, 409], answers
        won = next(body["status"] for status, body in answers if status == 200)
        lost = next(body for status, body in answers if status == 409)
        assert lost["errors"]["json"]["status"] == [f"The action is {won}."], lost
        with app.app_context():
            assert db.session.get(Action, action_id).status == won
        assert audit_actions(app, "action", action_id) == ["update"]


# Dispute records -------------------------------------------------------------------------------

def _open_dispute(app, world, received_at=NOW - timedelta(hours=1)) -> int:
    from supervision.followup.models import Dispute

    with app.app_context():
        dispute = Dispute(store_id=world["store"].id, reference=new_id()[:32],
                          category="emergency", matter="停电 / power cut", first_handler="李娜",
                          received_at=received_at, due_at=received_at + timedelta(days=1),
                          callbacks=[], status="open")
        db.session.add(dispute)
        db.session.commit()
        return dispute.id


def test_crossing_closes_of_a_dispute_have_one_winner(app, world, server):
    from supervision.followup.models import Dispute

    headers = world["headers"]
    for _ in range(PAIRS // 2):
        dispute_id = _open_dispute(app, world)
        path = f"/api/v1/disputes/{dispute_id}"
        answers = crossing(
            server, ("PATCH", path, headers["supervisor"], {"status": "closed", "result": "退款"}),
            ("PATCH", path, headers["manager"], {"status": "closed", "result": "换货"}))
        assert sorted(status for status, _ in answers) == [200, 409], answers
        won = next(body["result"] for status, body in answers if status == 200)
        lost = next(body for status, body in answers if status == 409)
        assert lost["errors"]["json"]["status"] == ["The dispute is closed."], lost
        with app.app_context():
            dispute = db.session.get(Dispute, dispute_id)
            assert (dispute.status, dispute.result) == ("closed", won)
        assert audit_actions(app, "dispute", dispute_id) == ["close"]
        # the winner's close again is a replay
        again = crossing(server, ("PATCH", path, headers["manager"],
                                  {"status": "closed", "result": won}))
        assert again[0][0] == 200 and again[0][1]["result"] == won


def test_crossing_callbacks_are_both_kept(app, world, server):
    headers = world["headers"]
    for _ in range(PAIRS // 2):
        dispute_id = _open_dispute(app, world)
        path = f"/api/v1/disputes/{dispute_id}"
        calls = [("PATCH", path, headers[who], {"callback": {
            "at": NOW.isoformat(), "by": who, "outcome": "已致电 / called"}})
            for who in ("supervisor", "manager")]
        answers = crossing(server, *calls)
        assert [status for status, _ in answers] == [200, 200], answers
        shown = crossing(server, ("GET", path, headers["manager"], None))[0][1]
        assert sorted(c["by"] for c in shown["callbacks"]) == ["manager", "supervisor"]
        assert audit_actions(app, "dispute", dispute_id) == ["callback", "callback"]


# Assignments -----------------------------------------------------------------------------------

def _assignment(app, world) -> int:
    from supervision.checklists.models import Checklist
    from supervision.followup.models import Assignment

    with app.app_context():
        checklist = db.session.scalars(
            select(Checklist).where(Checklist.slug == "test-mystery")).one()
        assignment = Assignment(
            store_id=world["store"].id, checklist_id=checklist.id,
            shopper_id=world["shopper"].id, window_start=NOW - timedelta(days=1),
            window_end=NOW + timedelta(days=6), status="planned",
            created_by_id=world["manager"].id)
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def test_crossing_cancel_and_submission_of_its_visit_have_one_winner(app, world, server):
    """The shopper submits the visit made for an assignment while a manager cancels it: either
    the visit completes it (the cancel is 409), or the cancel wins and the visit is flagged."""
    from supervision.followup.models import Assignment
    from supervision.visits.models import Visit

    headers = world["headers"]
    for _ in range(PAIRS // 2):
        assignment_id, visit_id = _assignment(app, world), new_id()
        body = mystery_body(world["store"].id, revision=0, assignment_id=assignment_id)
        [(created, _)] = crossing(
            server, ("PUT", f"/api/v1/visits/{visit_id}", headers["shopper"], body))
        assert created == 201
        (submitted, _), (cancel, cancelled) = crossing(
            server, ("POST", f"/api/v1/visits/{visit_id}/submit", headers["shopper"], {}),
            ("PATCH", f"/api/v1/assignments/{assignment_id}", headers["manager"],
             {"status": "cancelled"}))
        assert submitted == 200
        with app.app_context():
            status = db.session.get(Assignment, assignment_id).status
            flags = [f["code"] for f in db.session.get(Visit, uuid.UUID(visit_id)).flags]
        if cancel == 200:
            assert status == "cancelled" and "assignment_cancelled" in flags
            assert audit_actions(app, "assignment", assignment_id) == ["cancel"]
        else:
            assert cancel == 409, cancelled
            assert cancelled["errors"]["json"]["status"] == ["The assignment is done."]
            assert status == "done" and "assignment_cancelled" not in flags
            assert audit_actions(app, "assignment", assignment_id) == ["complete"]


def test_crossing_cancel_and_handover_of_an_assignment_never_change_a_cancelled_one(
        app, world, make_user, server):
    from supervision.followup.models import Assignment

    headers, other = world["headers"], make_user("shopper", regions=[world["east"]])
    for _ in range(PAIRS // 2):
        assignment_id = _assignment(app, world)
        path = f"/api/v1/assignments/{assignment_id}"
        (cancel, _), (handover, handed) = crossing(
            server, ("PATCH", path, headers["manager"], {"status": "cancelled"}),
            ("PATCH", path, headers["other_manager"], {"shopper_id": other.id}))
        assert cancel == 200
        with app.app_context():
            assignment = db.session.get(Assignment, assignment_id)
            final = (assignment.status, assignment.shopper_id)
        log = audit_actions(app, "assignment", assignment_id)
        if handover == 200:  # the handover came first, then the cancel
            assert (final, log) == (("cancelled", other.id), ["reschedule", "cancel"])
        else:
            assert handover == 409, handed
            assert handed["errors"]["json"]["status"] == ["The assignment is cancelled."]
            assert (final, log) == (("cancelled", world["shopper"].id), ["cancel"])


def test_two_visits_published_at_once_never_share_the_stores_dispute_record(
        app, world, make_visit, server):
    """Two mystery visits of one store on one day played the dispute scenario; the store made
    one record. Published at the same moment, one visit gets the record, the other the flag."""
    from supervision.followup.models import Dispute
    from supervision.visits.models import Visit

    headers = world["headers"]
    for n in range(PAIRS // 2):
        day = datetime.combine(date.today() - timedelta(days=n + 2), datetime.min.time(),
                               UTC).replace(hour=7)
        visits = [make_visit(world["store"], world["shopper"], "mystery-visit",
                             status="submitted", started_at=day) for _ in range(2)]
        record_id = _open_dispute(app, world, received_at=day + timedelta(minutes=20))
        answers = crossing(server, _review(visits[0], headers["manager"], "publish"),
                           _review(visits[1], headers["other_manager"], "publish"))
        assert [status for status, _ in answers] == [200, 200], answers
        with app.app_context():
            linked = db.session.get(Dispute, record_id).visit_id
            flagged = [v for v in visits if [f["code"] for f in db.session.get(
                Visit, v).flags] == ["no_dispute_record"]]
        assert linked in visits and flagged == [v for v in visits if v != linked]
        assert sorted(len(body["dispute_ids"]) for _, body in answers) == [0, 1]
