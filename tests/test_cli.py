"""The command-line tools: users, checklists and demo data, each safe to run again."""

from sqlalchemy import func, select

from supervision.db import db


def test_create_user_and_reject_duplicates(app, runner):
    from supervision.accounts.models import User

    args = ["users", "create", "--email", "Z@example.com", "--name", "张三", "--role", "manager",
            "--password", "pw-123456"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.email == "z@example.com" and user.check_password("pw-123456")


def test_create_a_store_manager_of_its_stores(app, runner, make_world):
    from supervision.accounts.models import User

    make_world(stores={"hall": {"region": "east", "code": "SH9"}}, people={})
    base = ["users", "create", "--name", "王丽", "--role", "store_manager",
            "--password", "pw-123456"]
    without = runner.invoke(args=[*base, "--email", "a@example.com"])
    assert without.exit_code != 0 and "store" in without.output.lower()
    made = runner.invoke(args=[*base, "--email", "b@example.com", "--store", "SH9"])
    assert made.exit_code == 0, made.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert [store.code for store in user.stores] == ["SH9"] and not user.regions


def test_demo_seed_is_idempotent(app, runner):
    from supervision.accounts.models import User
    from supervision.stores.models import Store

    assert runner.invoke(args=["checklists", "load"]).exit_code == 0
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Store.id))) >= 20
        emails = set(db.session.scalars(select(User.email)))
        assert {"admin@example.com", "manager@example.com", "supervisor@example.com",
                "shopper@example.com", "store@example.com"} <= emails
        from supervision.followup.models import Query

        [query] = db.session.scalars(select(Query)).all()  # the store's query, upheld
        assert query.status == "upheld" and query.ruling_comment
        from supervision.followup.models import Assignment
        from supervision.plans.models import AuditPlan, DueVisit, Wave

        # the weekly plan of the class A halls, once: some audits done by the seeded visits,
        # the others missed; follow-ups of the failed visits; a wave's proposals
        [plan] = db.session.scalars(select(AuditPlan)).all()
        statuses = {d.status for d in db.session.scalars(
            select(DueVisit).where(DueVisit.plan_id == plan.id))}
        assert {"done", "missed", "due"} <= statuses
        kinds = set(db.session.scalars(select(DueVisit.kind)))
        assert kinds == {"plan", "followup"}
        [wave] = db.session.scalars(select(Wave)).all()
        proposed = db.session.scalars(select(Assignment).where(Assignment.wave_id == wave.id))
        assert {a.status for a in proposed} == {"proposed"}


def test_demo_accounts_get_tokens(app, runner, client):
    runner.invoke(args=["checklists", "load"])
    runner.invoke(args=["demo", "seed"])
    from supervision.demo import DEMO_USERS

    for email, _name, role, _regions in DEMO_USERS:
        response = client.post("/api/v1/auth/token",
                               json={"email": email, "password": "demo1234"})
        assert response.status_code == 200
        assert response.json["user"]["role"] == role


def test_demo_seed_again_keeps_passwords_and_tokens(app, runner, client):
    from supervision.accounts.models import User

    def credentials():
        with app.app_context():
            users = db.session.scalars(select(User).order_by(User.email))
            return [(u.email, u.password_hash, u.credential_generation) for u in users]

    assert runner.invoke(args=["checklists", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    login = {"email": "shopper@example.com", "password": "demo1234"}
    token = client.post("/api/v1/auth/token", json=login).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    before = credentials()
    result = runner.invoke(args=["demo", "seed"])  # what every `make run` does
    assert result.exit_code == 0, result.output
    assert credentials() == before
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_demo_store_closes_the_loop(app, runner, client):
    """store@example.com runs the store the demo supervisor audits: its roster, published audits
    and mystery visits with actions in every state, fixes with photos, one signed audit; a
    second seed changes none of it."""
    from supervision.accounts.models import User
    from supervision.followup.models import ACTION_STATUSES, Action, ActionEvidence
    from supervision.storage import get_storage
    from supervision.stores.models import Staff, Store
    from supervision.visits import photos as pipeline
    from supervision.visits.models import Signoff, Visit

    def loop():
        with app.app_context():
            return (sorted((a.id, a.status, a.owner_staff_id, a.due_date)
                           for a in db.session.scalars(select(Action))),
                    db.session.scalar(select(func.count()).select_from(ActionEvidence)),
                    db.session.scalar(select(func.count()).select_from(Signoff)))

    assert runner.invoke(args=["checklists", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    first = loop()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert loop() == first
    with app.app_context():
        manager = db.session.scalars(select(User).filter_by(email="store@example.com")).one()
        store = db.session.scalars(select(Store).filter_by(code="SH001")).one()
        assert manager.role == "store_manager" and [s.id for s in manager.stores] == [store.id]
        assert manager.name == store.manager_name
        roster = {s.id: s for s in db.session.scalars(select(Staff).filter_by(store_id=store.id))}
        assert len(roster) >= 6 and any(not s.active for s in roster.values())
        visits = db.session.scalars(select(Visit).filter_by(store_id=store.id)).all()
        published = {v.id: v for v in visits if v.status == "published"}
        assert {v.kind for v in published.values()} == {"audit", "mystery"}
        assert all(v.author.email == "supervisor@example.com"
                   for v in visits if v.kind == "audit")
        actions = db.session.scalars(select(Action).filter_by(store_id=store.id)).all()
        assert {a.status for a in actions} == set(ACTION_STATUSES)
        assert all(a.visit_id in published for a in actions)
        storage = get_storage()
        for action in actions:
            if action.status not in ("proposed", "dismissed"):
                assert roster[action.owner_staff_id].active and action.agreed_at
                assert action.owner == roster[action.owner_staff_id].name
            if action.status == "dismissed":
                assert action.dismiss_reason
            if action.done_at:
                assert action.done_at > action.agreed_at and action.evidence
                assert all(e.status == "processed" and e.taken_at < action.done_at
                           and storage.exists(pipeline.derived_key(e.content_hash, "display",
                                                                    None))
                           for e in action.evidence)
            if action.status == "verified":
                assert action.verified_at >= action.agreed_at
            if action.status == "reopened":
                assert action.decision_comment and action.overdue  # due date kept, now passed
        signed = [v for v in published.values() if v.signoff is not None]
        assert [v.kind for v in signed] == ["audit"]
        signoff = signed[0].signoff
        assert signoff.name == manager.name and signoff.signed_at > signed[0].started_at
        assert storage.exists(pipeline.derived_key(signoff.signature_hash, "original",
                                                   "image/png"))
        signed_id = signed[0].id
    login = client.post("/api/v1/auth/token",
                        json={"email": "store@example.com", "password": "demo1234"})
    assert login.status_code == 200 and login.json["user"]["role"] == "store_manager"
    report = client.get(f"/api/v1/visits/{signed_id}/report.pdf?lang=zh",
                        headers={"Authorization": f"Bearer {login.json['token']}"})
    assert report.status_code == 200 and report.mimetype == "application/pdf"
