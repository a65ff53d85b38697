"""Store checklist versions: a changed file becomes version n+1, old versions never change."""

from sqlalchemy import func, select

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.loader import ChecklistError, content_hash, load_checklist
from supervision.checklists.models import Checklist, ChecklistVersion
from supervision.db import db
from supervision.errors import Conflict, Invalid, NotFound


def add_version(text: str, source: str, actor=None) -> tuple[ChecklistVersion, bool]:
    """Validate `text` and store it as the next version; returns (version, created).

    Loading the same content again returns the existing version unchanged.
    """
    try:
        definition = load_checklist(text, source)
    except ChecklistError as error:
        raise Invalid(f"{source}: the checklist has errors.", {"yaml": error.problems}) from error
    digest = content_hash(text)
    checklist = _checklist_for(definition)
    existing = db.session.scalars(
        select(ChecklistVersion).filter_by(checklist_id=checklist.id, content_hash=digest)
    ).first()
    if existing is not None:
        return existing, False
    latest = db.session.scalar(
        select(func.max(ChecklistVersion.version)).filter_by(checklist_id=checklist.id)
    )
    version = ChecklistVersion(
        checklist=checklist,
        version=(latest or 0) + 1,
        content_hash=digest,
        title=dict(definition.to_dict()["title"]),
        source_name=source,
        source_text=text,
        definition=definition.to_dict(),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    record(actor, "create", "checklist_version", version.id, slug=checklist.slug,
           version=version.version)
    return version, True


def _checklist_for(definition: ChecklistDefinition) -> Checklist:
    checklist = db.session.scalars(select(Checklist).filter_by(slug=definition.slug)).first()
    if checklist is None:
        checklist = Checklist(slug=definition.slug, kind=definition.kind)
        db.session.add(checklist)
        db.session.flush()
    elif checklist.kind != definition.kind:
        raise Conflict(
            f"Checklist {definition.slug} is of kind {checklist.kind}; a new version cannot "
            f"change it to {definition.kind}."
        )
    return checklist


def current_version(slug: str) -> ChecklistVersion:
    version = db.session.scalars(
        select(ChecklistVersion)
        .join(Checklist)
        .where(Checklist.slug == slug)
        .order_by(ChecklistVersion.version.desc())
    ).first()
    if version is None:
        raise NotFound(f"Checklist {slug} not found.")
    return version


def get_version(slug: str, number: int) -> ChecklistVersion:
    version = db.session.scalars(
        select(ChecklistVersion)
        .join(Checklist)
        .where(Checklist.slug == slug, ChecklistVersion.version == number)
    ).first()
    if version is None:
        raise NotFound(f"Checklist {slug} has no version {number}.")
    return version


# Parsed definitions by content hash: the same hash is the same definition, forever.
_parsed: dict[str, ChecklistDefinition] = {}


def definition_of(version: ChecklistVersion) -> ChecklistDefinition:
    """The parsed definition of a stored version."""
    definition = _parsed.get(version.content_hash)
    if definition is None:
        definition = ChecklistDefinition.from_dict(version.definition)
        _parsed[version.content_hash] = definition
    return definition
