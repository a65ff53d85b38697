"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from supervision.accounts.models import User, user_regions
from supervision.apikeys.models import ApiKey, ApiKeyUse
from supervision.audit.models import AuditEntry
from supervision.checklists.models import Checklist, ChecklistVersion
from supervision.feed.changes import FeedCounter
from supervision.followup.models import Action, Assignment, Dispute
from supervision.jobs.models import Job
from supervision.notifications.models import Notification
from supervision.plans.models import AuditPlan, DueVisit, Wave
from supervision.stores.models import Region, Store
from supervision.visits.models import Photo, Response, Visit
from supervision.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "Action", "ApiKey", "ApiKeyUse", "Assignment", "AuditEntry", "AuditPlan", "Checklist",
    "ChecklistVersion", "Dispute", "DueVisit", "FeedCounter", "Job", "Notification", "Photo",
    "Region", "Response", "Store", "User", "Visit", "Wave", "Webhook", "WebhookDelivery",
    "user_regions",
]
