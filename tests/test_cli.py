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
                "shopper@example.com"} <= emails


def test_demo_accounts_get_tokens(app, runner, client):
    runner.invoke(args=["checklists", "load"])
    runner.invoke(args=["demo", "seed"])
    for role in ("admin", "manager", "supervisor", "shopper"):
        response = client.post("/api/v1/auth/token",
                               json={"email": f"{role}@example.com", "password": "demo1234"})
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
