"""Checklist version history and the difference between two versions (text and by item id)."""

import difflib

from sqlalchemy import select

from supervision.accounts.models import User
from supervision.checklists.models import Checklist, ChecklistVersion
from supervision.checklists.services import get_version
from supervision.db import db
from supervision.errors import NotFound


def get_checklist(slug: str) -> Checklist:
    checklist = db.session.scalars(select(Checklist).where(Checklist.slug == slug)).first()
    if checklist is None:
        raise NotFound(f"Checklist {slug} not found.")
    return checklist


def version_history(slug: str) -> list[dict]:
    """Every version of a checklist, newest first, with who uploaded it."""
    checklist = get_checklist(slug)
    rows = db.session.execute(
        select(ChecklistVersion, User.email)
        .outerjoin(User, User.id == ChecklistVersion.created_by_id)
        .where(ChecklistVersion.checklist_id == checklist.id)
        .order_by(ChecklistVersion.version.desc())
    )
    return [{"version": v.version, "content_hash": v.content_hash, "source_name": v.source_name,
             "created_at": v.created_at, "created_by": email, "title": v.title,
             "items": len(items_by_id(v.definition))} for v, email in rows]


def items_by_id(definition: dict) -> dict[str, dict]:
    """Each item of a stored definition with the id of its section."""
    return {item["id"]: {**item, "section": section["id"]}
            for section in definition.get("sections", ()) for item in section.get("items", ())}


def diff_versions(slug: str, old: int, new: int) -> dict:
    """A unified diff of the two YAML sources, and which items were added, removed or changed."""
    before, after = get_version(slug, old), get_version(slug, new)
    unified = "".join(difflib.unified_diff(
        before.source_text.splitlines(keepends=True), after.source_text.splitlines(keepends=True),
        fromfile=f"{slug} v{old}", tofile=f"{slug} v{new}",
    ))
    old_items, new_items = items_by_id(before.definition), items_by_id(after.definition)
    changed = [
        {"id": ident, "fields": sorted(key for key in {*item, *old_items[ident]}
                                       if item.get(key) != old_items[ident].get(key))}
        for ident, item in new_items.items()
        if ident in old_items and item != old_items[ident]
    ]
    return {
        "slug": slug, "from": old, "to": new, "unified": unified,
        "added": [ident for ident in new_items if ident not in old_items],
        "removed": [ident for ident in old_items if ident not in new_items],
        "changed": changed,
    }
