"""Record changes in the audit log; the caller's transaction commits them with the change."""

from supervision.audit.models import AuditEntry
from supervision.db import db


def record(user, action: str, entity: str, entity_id, **details) -> AuditEntry:
    entry = AuditEntry(
        user_id=getattr(user, "id", None),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=details,
    )
    db.session.add(entry)
    return entry
