"""Changes to accounts: create users, check credentials, end sessions."""

from sqlalchemy import select

from supervision.accounts.models import ROLES, User
from supervision.audit.services import record
from supervision.db import db
from supervision.errors import Conflict, Invalid
from supervision.stores.models import Region


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def create_user(email, name, role, password, region_codes=(), actor=None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}.", {"role": [f"Must be one of: {', '.join(ROLES)}."]})
    if db.session.scalars(select(User).where(User.email == email)).first():
        raise Conflict(f"A user with e-mail {email} exists already.")
    regions = list(db.session.scalars(select(Region).where(Region.code.in_(region_codes))))
    unknown = set(region_codes) - {region.code for region in regions}
    if unknown:
        raise Invalid("Unknown region.", {"regions": [f"Unknown: {', '.join(sorted(unknown))}."]})
    user = User(email=email, name=name, role=role, regions=regions)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "create", "user", user.id, email=email, role=role)
    return user


def end_sessions(user: User, why: str) -> None:
    """End every cookie session, remember-me cookie and API token that `user` holds."""
    user.end_sessions()
    record(user, why, "user", user.id, email=user.email)
