"""Hand a visit's report renders to the background when it is submitted or published (kept apart
from the report services, which the visit and review services must not import)."""

from flask import current_app

from supervision import tasks


def after_commit(visit) -> None:
    """Render the visit's reports once its submission or publication commits, so that the first
    download is already in the cache (see services.prerender_visit)."""
    if current_app.config["REPORT_PRERENDER"]:
        tasks.after_commit("reports", "supervision.reports.services:prerender_visit",
                           str(visit.id))
