"""Import files kept between the check and the apply, in the shared storage: the apply may reach
another web machine than the check did."""

import re
import secrets
import time

from supervision.storage import get_storage

PREFIX = "imports"
LIFETIME_S = 24 * 3600  # a checked file not applied within a day is swept away
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def keep(data: bytes) -> str:
    """Store a checked file; returns the token that names it (old ones are swept away)."""
    storage = get_storage()
    limit = time.time() - LIFETIME_S
    for key, mtime in list(storage.keys(PREFIX)):
        if mtime < limit:
            storage.delete(key)
    token = secrets.token_hex(16)
    spooled = storage.spool_file()
    spooled.write_bytes(data)
    storage.put_file(_key(token), spooled)
    return token


def kept(token: str) -> bytes | None:
    """The file kept under `token`, or None when there is none (applied, swept, or forged)."""
    if not TOKEN.match(token):
        return None
    try:
        with get_storage().open(_key(token)) as stored:
            return stored.read()
    except FileNotFoundError:
        return None


def discard(token: str) -> None:
    if TOKEN.match(token):
        get_storage().delete(_key(token))


def _key(token: str) -> str:
    return f"{PREFIX}/{token}"
