"""Changes to accounts: create users, check credentials, end sessions."""

from sqlalchemy import select

from supervision.accounts.models import ROLES, User
from supervision.audit.services import record
from supervision.db import db
from supervision.errors import Conflict, Invalid
from supervision.stores.models import Region, Store


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def create_user(email, name, role, password, region_codes=(), actor=None,
                store_codes=()) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}.", {"role": [f"Must be one of: {', '.join(ROLES)}."]})
    if db.session.scalars(select(User).where(User.email == email)).first():
        raise Conflict(f"A user with e-mail {email} exists already.")
    regions = _by_code(Region, region_codes, "regions")
    stores = _by_code(Store, store_codes, "stores")
    check_links(role, regions, stores, ("regions", "stores"))
    user = User(email=email, name=name, role=role, regions=regions, stores=stores)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "create", "user", user.id, email=email, role=role)
    return user


def _by_code(model, codes, field: str) -> list:
    found = list(db.session.scalars(select(model).where(model.code.in_(codes))))
    unknown = set(codes) - {row.code for row in found}
    if unknown:
        raise Invalid(f"Unknown {field}: {', '.join(sorted(unknown))}.",
                      {field: [f"Unknown: {', '.join(sorted(unknown))}."]})
    return found


def link_problems(role: str, regions, stores,
                  fields=("region_ids", "store_ids")) -> dict[str, list[str]]:
    """What is wrong with an account's links, by field (`fields` names regions and stores): a
    store manager works for one or more stores and no region; no other role has a store."""
    regions_field, stores_field = fields
    if role != "store_manager":
        return {stores_field: ["Only a store manager has stores."]} if stores else {}
    problems = {}
    if not stores:
        problems[stores_field] = ["A store manager needs at least one store."]
    if regions:
        problems[regions_field] = ["A store manager has stores, not regions."]
    return problems


def check_links(role: str, regions, stores, fields=("region_ids", "store_ids")) -> None:
    """Invalid (422), naming the field, when the account's links do not fit its role."""
    problems = link_problems(role, regions, stores, fields)
    if problems:
        message = " ".join(f"{field}: {texts[0]}" for field, texts in problems.items())
        raise Invalid(message, {"json": problems})


def end_sessions(user: User, why: str) -> None:
    """End every cookie session, remember-me cookie and API token that `user` holds."""
    user.end_sessions()
    record(user, why, "user", user.id, email=user.email)
