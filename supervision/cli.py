"""Command-line tools: `flask --app supervision checklists|users|demo …`, thin over services."""

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from supervision.accounts.models import ROLES
from supervision.db import db
from supervision.errors import DomainError

checklists_cli = AppGroup("checklists", help="Validate and load checklist YAML files.")
users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data for a first look.")
photos_cli = AppGroup("photos", help="Photo storage upkeep: derivatives and leftovers.")
notifications_cli = AppGroup("notifications", help="Notification emails.")
actions_cli = AppGroup("actions", help="Corrective actions: reminders and escalation.")


def _checklist_files(paths) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    folder = Path(current_app.root_path).parent / "checklists"
    return sorted(folder.glob("*.yaml"))


@checklists_cli.command("validate")
@click.argument("paths", nargs=-1)
def validate_checklists(paths):
    """Check checklist files without loading them."""
    from supervision.checklists.loader import ChecklistError, load_checklist

    failed = False
    for path in _checklist_files(paths):
        try:
            load_checklist(path.read_text(encoding="utf-8"), path.name)
            click.echo(f"ok      {path.name}")
        except ChecklistError as error:
            failed = True
            click.echo(str(error), err=True)
    if failed:
        raise SystemExit(1)


@checklists_cli.command("load")
@click.argument("paths", nargs=-1)
def load_checklists(paths):
    """Load checklist files; a changed file becomes a new version. All or nothing."""
    from supervision.checklists.services import add_version

    try:
        for path in _checklist_files(paths):
            version, created = add_version(path.read_text(encoding="utf-8"), path.name)
            state = "new" if created else "same"
            click.echo(f"{state:7} {version.checklist.slug} v{version.version}")
    except DomainError as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        for problem in (error.errors or {}).get("yaml", []):
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from error
    db.session.commit()


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--region", "regions", multiple=True, help="Region code; repeat for several.")
@click.option("--store", "stores", multiple=True,
              help="Store code of a store manager; repeat for several.")
@click.password_option()
def create_user(email, name, role, regions, stores, password):
    """Create a user account."""
    from supervision.accounts.services import create_user as create

    try:
        user = create(email, name, role, password, regions, store_codes=stores)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"created {user.email} ({user.role})")


@demo_cli.command("seed")
def seed_demo():
    """Regions, ~20 stores, the demo accounts and a handful of scored visits (idempotent)."""
    from supervision.demo import seed

    summary = seed(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    click.echo(summary)


@photos_cli.command("process-pending")
def process_pending_photos():
    """Make the derivatives of every photo (of a visit or of a fix) received but not processed
    yet."""
    from supervision.followup import evidence
    from supervision.visits import photos

    states = []
    for photo in photos.pending_photos():
        states.append(photos.process(photo))
        db.session.commit()  # each photo's outcome kept as it goes
    for photo in evidence.pending_evidence():
        states.append(evidence.process(photo))
        db.session.commit()
    click.echo(f"processed {states.count('processed')}, corrupt {states.count('corrupt')}")


@photos_cli.command("cleanup")
@click.option("--older-than-hours", default=24.0, show_default=True,
              help="Only files at least this old: younger ones may belong to a running upload.")
def cleanup_photos(older_than_hours):
    """Remove abandoned uploads and stored content that no photo refers to."""
    from supervision.visits.photos import clean_storage

    removed = clean_storage(older_than_hours * 3600)
    click.echo(f"removed {removed['temporaries']} temporaries, {removed['orphans']} orphans")


@notifications_cli.command("resend")
@click.option("--older-than", "minutes", default=10, show_default=True,
              type=click.IntRange(min=0),
              help="Pending emails at least this many minutes old: younger ones may be on their "
                   "way. Failed ones are re-sent whatever their age.")
def resend_emails(minutes):
    """Email again the notifications whose email failed or has been pending for too long."""
    from supervision import tasks
    from supervision.notifications.mail import resend

    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("MAIL_SERVER is not set: notifications are not emailed.")
    count = resend(timedelta(minutes=minutes))
    db.session.commit()  # hands them over
    tasks.drain()  # without a queue this process sends them itself: not before it exits
    click.echo(f"resent {count}")


@actions_cli.command("sweep")
def sweep_actions():
    """Remind the stores of actions due today and escalate those 3 days overdue (each once)."""
    from supervision import tasks
    from supervision.followup.escalation import sweep_task

    sent = sweep_task()
    tasks.drain()  # without a queue this process emails them itself: not before it exits
    click.echo(f"reminded {sent['reminded']}, escalated {sent['escalated']}")


def init_app(app: Flask) -> None:
    for group in (checklists_cli, users_cli, demo_cli, photos_cli, notifications_cli,
                  actions_cli):
        app.cli.add_command(group)
