"""Creating, revoking and checking API keys, and logging each use."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import insert, select, update

from supervision.apikeys.models import ApiKey, ApiKeyUse
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Invalid
from supervision.pagination import paginate
from supervision.scoping import get_api_key, scoped_api_keys
from supervision.stores.models import Region

SECRET_START = "svk_"  # tells a key from a login token at a glance (and in `Authorization`)
DEFAULT_LIFETIME = timedelta(days=365)
LONGEST_LIFETIME = timedelta(days=3 * 366)
# What a key reaches: reads of these paths (and their children), never a report's rendering
# (that queues work) or anything of an account (notifications, jobs, the keys themselves).
READABLE = ("/api/v1/feed/", "/api/v1/regions", "/api/v1/stores", "/api/v1/checklists",
            "/api/v1/visits", "/api/v1/actions", "/api/v1/disputes", "/api/v1/coverage",
            "/api/v1/dashboard", "/api/v1/plans", "/api/v1/due-visits")


class KeyCaller(UserMixin):
    """Who a request made with a key is, for the scoping module: a reader of the key's regions,
    as a regional manager ("internal") or from the store's side ("store")."""

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.id = None
        self.role = "manager" if key.access == "internal" else "supervisor"
        self.regions = list(key.regions)
        self.stores = []
        self.name = key.name
        self.email = None
        self.locale = None

    def get_id(self):
        return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_key(token: str) -> bool:
    return token.startswith(SECRET_START)


def key_of(secret: str) -> ApiKey | None:
    """The key this secret is, usable or not (a revoked key's tries are logged too)."""
    return db.session.scalar(select(ApiKey).where(ApiKey.secret_hash == _digest(secret)))


def may_call(method: str, path: str) -> bool:
    return (method in ("GET", "HEAD") and "/report" not in path
            and any(path == start.rstrip("/") or path.startswith(start.rstrip("/") + "/")
                    for start in READABLE))


def log_use(key_id: int, method: str, path: str, status: int, address: str | None) -> None:
    """Kept in its own transaction: the request's session may be anywhere by now."""
    now = utcnow()
    with db.engine.begin() as connection:
        connection.execute(insert(ApiKeyUse).values(
            api_key_id=key_id, at=now, method=method, path=path[:500], status=status,
            address=address))
        connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def list_keys(user) -> list[ApiKey]:
    return list(db.session.scalars(scoped_api_keys(user)))


def create_key(user, data: dict, now: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time anyone sees it). The caller commits."""
    now = now or utcnow()
    expires_at = data.get("expires_at") or now + DEFAULT_LIFETIME
    if expires_at <= now:
        raise Invalid("A key must expire in the future.",
                      {"json": {"expires_at": ["Must be in the future."]}})
    if expires_at > now + LONGEST_LIFETIME:
        raise Invalid("A key lives three years at most.",
                      {"json": {"expires_at": ["At most three years from now."]}})
    wanted = set(data["region_ids"])
    regions = db.session.scalars(select(Region).where(Region.id.in_(wanted))).all()
    unknown = sorted(wanted - {region.id for region in regions})
    if unknown:
        raise Invalid(f"No such region: {', '.join(map(str, unknown))}.",
                      {"json": {"region_ids": [f"No such region: {unknown[0]}."]}})
    secret = SECRET_START + secrets.token_urlsafe(32)
    key = ApiKey(name=data["name"], access=data.get("access", "store"), regions=list(regions),
                 expires_at=expires_at, prefix=secret[:12], secret_hash=_digest(secret),
                 created_by_id=user.id, created_at=now)
    db.session.add(key)
    db.session.flush()
    record(user, "create", "api_key", key.id, name=key.name, access=key.access,
           regions=sorted(wanted))
    return key, secret


def revoke_key(user, key_id: int) -> ApiKey:
    key = get_api_key(user, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(user, "revoke", "api_key", key.id)
    return key


def key_uses(user, key_id: int, limit: int, offset: int) -> tuple[list[ApiKeyUse], int]:
    key = get_api_key(user, key_id)
    query = (select(ApiKeyUse).where(ApiKeyUse.api_key_id == key.id)
             .order_by(ApiKeyUse.at.desc(), ApiKeyUse.id.desc()))
    return paginate(query, limit, offset)
