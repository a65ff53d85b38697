"""Who may see and do what: the one place every view asks."""

from functools import wraps

from flask_login import current_user
from sqlalchemy import Select, false, or_, select

from supervision.accounts.models import User
from supervision.apikeys.models import ApiKey
from supervision.checklists.models import Checklist
from supervision.db import db
from supervision.errors import Forbidden, NotFound
from supervision.followup.models import Action, Assignment, Dispute, Query
from supervision.plans.models import AuditPlan, DueVisit, Wave
from supervision.stores.models import Region, Staff, Store
from supervision.visits.models import Visit
from supervision.webhooks.models import Webhook, WebhookDelivery


def roles_required(*roles: str):
    """403 for a logged-in user whose role is not among `roles` (login is checked app-wide)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def region_ids(user: User) -> list[int]:
    return [region.id for region in user.regions]


def store_ids(user: User) -> list[int]:
    """A store manager's stores."""
    return [store.id for store in user.stores]


def scoped_regions(user: User) -> Select:
    query = select(Region).order_by(Region.code)
    if user.role == "admin":
        return query
    if user.role == "store_manager":
        return query.where(Region.id.in_(select(Store.region_id)
                                         .where(Store.id.in_(store_ids(user)))))
    return query.where(Region.id.in_(region_ids(user)))


def scoped_stores(user: User) -> Select:
    """Stores in the user's regions; a shopper also sees the stores it is assigned to; a store
    manager its own stores."""
    query = select(Store).order_by(Store.code)
    if user.role == "admin":
        return query
    if user.role == "store_manager":
        return query.where(Store.id.in_(store_ids(user)))
    in_regions = Store.region_id.in_(region_ids(user))
    if user.role == "shopper":
        from supervision.followup.models import Assignment

        assigned = select(Assignment.store_id).where(Assignment.shopper_id == user.id,
                                                     Assignment.status != "proposed")
        return query.where(or_(in_regions, Store.id.in_(assigned)))
    return query.where(in_regions)


def scoped_visits(user: User) -> Select:
    """A shopper sees its own visits; managers see their regions' visits once submitted;
    supervisors see their own and their regions' published ones (an unpublished mystery
    visit never reaches the store's side)."""
    query = select(Visit)
    if user.role == "admin":
        return query
    if user.role == "shopper":
        return query.where(Visit.author_id == user.id)
    if user.role == "store_manager":  # its stores' published visits, in the store version
        # (not a calibration visit: a second rating that rates the raters, not the store)
        return query.where(Visit.status == "published", Visit.store_id.in_(store_ids(user)),
                           or_(Visit.excluded.is_(None), Visit.excluded != "calibration"))
    in_regions = Visit.store_id.in_(
        select(Store.id).where(Store.region_id.in_(region_ids(user)))
    )
    if user.role == "manager":
        return query.where(in_regions, or_(Visit.status != "draft", Visit.author_id == user.id))
    return query.where(
        or_(Visit.author_id == user.id, (Visit.status == "published") & in_regions)
    )


def _region_store_ids(user: User) -> Select:
    """The stores the user's side works for: its regions' stores, or a store manager's own."""
    if user.role == "store_manager":
        return select(Store.id).where(Store.id.in_(store_ids(user)))
    return select(Store.id).where(Store.region_id.in_(region_ids(user)))


def sees_store_version(user: User) -> bool:
    """Whether the user reads visits in the store version (never a mystery shopper's identity,
    location or the reviewer's notes): everyone on the store's side."""
    return user.role in ("supervisor", "store_manager")


def reads_store_version(user: User, visit: Visit) -> bool:
    """Whether `user` reads this visit without its author, location, flags and review: a mystery
    visit someone else made, read from the store's side (the shopper stays unknown there)."""
    return (sees_store_version(user) and visit.kind == "mystery"
            and visit.author_id != user.id)


def scoped_assignments(user: User) -> Select:
    """Managers plan mystery visits in their regions; a shopper sees only its own; supervisors
    are on the store's side of an undercover visit and see none."""
    query = select(Assignment).order_by(Assignment.window_start, Assignment.id)
    if user.role == "admin":
        return query
    if user.role == "shopper":  # a wave's proposal is not the shopper's until confirmed
        return query.where(Assignment.shopper_id == user.id, Assignment.status != "proposed")
    if user.role == "manager":
        return query.where(Assignment.store_id.in_(_region_store_ids(user)))
    return query.where(false())  # supervisors and store managers: the store's side


def scoped_actions(user: User) -> Select:
    """Corrective actions of the stores in the user's regions (a store manager: of its stores);
    the store's side does not see those of a visit it may not see (an unpublished mystery
    visit); shoppers see none."""
    query = select(Action).order_by(Action.due_date, Action.id)
    if user.role == "admin":
        return query
    if user.role == "shopper":
        return query.where(false())
    query = query.where(Action.store_id.in_(_region_store_ids(user)))
    if user.role == "manager":
        return query
    visible = scoped_visits(user).with_only_columns(Visit.id)
    return query.where(or_(Action.visit_id.is_(None), Action.visit_id.in_(visible)))


def scoped_disputes(user: User) -> Select:
    """Dispute records of the stores in the user's regions (a store manager: of its stores);
    shoppers see none."""
    query = select(Dispute).order_by(Dispute.received_at.desc(), Dispute.id)
    if user.role == "admin":
        return query
    if user.role == "shopper":
        return query.where(false())
    return query.where(Dispute.store_id.in_(_region_store_ids(user)))


def scoped_staff(user: User) -> Select:
    """The rosters of the stores the user's side works for; shoppers see none."""
    query = select(Staff).order_by(Staff.store_id, Staff.name, Staff.id)
    if user.role == "admin":
        return query
    if user.role == "shopper":
        return query.where(false())
    return query.where(Staff.store_id.in_(_region_store_ids(user)))


def get_scoped(user: User, query: Select, model, object_id, what: str):
    """The object if the user may see it; 404 either way otherwise (never reveal existence)."""
    if isinstance(object_id, int) and not 0 < object_id < 2**31:
        raise NotFound(f"{what} {object_id} not found.")  # no such id, and no database error
    found = db.session.scalars(query.where(model.id == object_id)).first()
    if found is None:
        raise NotFound(f"{what} {object_id} not found.")
    return found


def get_store(user: User, store_id: int) -> Store:
    return get_scoped(user, scoped_stores(user), Store, store_id, "Store")


def get_region(user: User, region_id: int) -> Region:
    return get_scoped(user, scoped_regions(user), Region, region_id, "Region")


def get_visit(user: User, visit_id) -> Visit:
    return get_scoped(user, scoped_visits(user), Visit, visit_id, "Visit")


def get_visit_history(user: User, visit_id) -> Visit:
    """A visit whose submissions the user may read: its author's and its reviewers' (admin, a
    manager in scope). The store's side gets 404: the versions would show the shopper's edits."""
    visit = get_visit(user, visit_id)
    if visit.author_id != user.id and user.role not in ("admin", "manager"):
        raise NotFound(f"Visit {visit_id} not found.")
    return visit


def get_own_visit(user: User, visit_id) -> Visit:
    """A visit the user recorded, to change it: its author always sees it, so one read by id
    decides (the photo and submit requests of a sync). Someone else's visit: 403 if the user
    may see it, 404 if not."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.author_id != user.id:
        get_visit(user, visit_id)
        raise Forbidden(f"Only the author of visit {visit_id} can change it.")
    return visit


def get_assignment(user: User, assignment_id: int):
    return get_scoped(user, scoped_assignments(user), Assignment, assignment_id, "Assignment")


def get_action(user: User, action_id: int):
    return get_scoped(user, scoped_actions(user), Action, action_id, "Action")


def get_dispute(user: User, dispute_id: int):
    return get_scoped(user, scoped_disputes(user), Dispute, dispute_id, "Dispute")


def get_staff(user: User, staff_id: int):
    return get_scoped(user, scoped_staff(user), Staff, staff_id, "Staff member")


def scoped_queries(user: User) -> Select:
    """The store's queries of the visits the user may see; shoppers see none (a query is
    between the store and the reviewer)."""
    if user.role == "shopper":
        return select(Query).where(false())
    visible = scoped_visits(user).with_only_columns(Visit.id)
    return select(Query).where(Query.visit_id.in_(visible))


def get_query(user: User, query_id: int):
    return get_scoped(user, scoped_queries(user), Query, query_id, "Query")


def scoped_plans(user: User) -> Select:
    """Audit plans of the user's regions: managers make them, supervisors read them; the
    store's managers and shoppers see none (an audit is not announced)."""
    query = select(AuditPlan).order_by(AuditPlan.id)
    if user.role == "admin":
        return query
    if user.role not in ("manager", "supervisor"):
        return query.where(false())
    return query.where(AuditPlan.region_id.in_(region_ids(user)))


def get_plan(user: User, plan_id: int):
    return get_scoped(user, scoped_plans(user), AuditPlan, plan_id, "Plan")


def scoped_due_visits(user: User) -> Select:
    """Due visits (of plans, and follow-ups) of the stores of the user's regions; a supervisor
    sees the audits due for it or for any supervisor of the region (a failed mystery visit's
    follow-up is a shopper's, for a manager to assign); the store's side and shoppers none."""
    query = select(DueVisit).order_by(DueVisit.due_from, DueVisit.id)
    if user.role == "admin":
        return query
    if user.role not in ("manager", "supervisor"):
        return query.where(false())
    query = query.where(DueVisit.store_id.in_(_region_store_ids(user)))
    if user.role == "supervisor":
        audits = select(Checklist.id).where(Checklist.kind == "audit")
        query = query.where(or_(DueVisit.supervisor_id.is_(None),
                                DueVisit.supervisor_id == user.id),
                            DueVisit.checklist_id.in_(audits))
    return query


def get_due_visit(user: User, due_id: int):
    return get_scoped(user, scoped_due_visits(user), DueVisit, due_id, "Due visit")


def scoped_waves(user: User) -> Select:
    """Mystery waves of the user's regions, for its managers; nobody on the store's side, no
    shopper and no supervisor (the waves say which stores will be shopped when)."""
    query = select(Wave).order_by(Wave.starts_on.desc(), Wave.id)
    if user.role == "admin":
        return query
    if user.role != "manager":
        return query.where(false())
    return query.where(Wave.region_id.in_(region_ids(user)))


def get_wave(user: User, wave_id: int):
    return get_scoped(user, scoped_waves(user), Wave, wave_id, "Wave")


def scoped_api_keys(user: User) -> Select:
    """Keys for integrations: an admin's business alone."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    return query if user.role == "admin" else query.where(false())


def get_api_key(user: User, key_id: int) -> ApiKey:
    return get_scoped(user, scoped_api_keys(user), ApiKey, key_id, "API key")


def feed_rows(user: User, model) -> Select:
    """The ids of the records an integration's feed names, as themselves or as tombstones: those
    of the stores of the caller's regions, no draft visit, no action nobody agreed to yet.
    Which of them the caller reads is the scoped_* query of the model's."""
    query = select(model.id)
    if model is Visit:
        query = query.where(Visit.status != "draft")
    if model is Action:
        query = query.where(Action.status != "proposed")
    if user.role == "admin":
        return query
    if user.role not in ("manager", "supervisor"):
        return query.where(false())
    return query.where(model.store_id.in_(_region_store_ids(user)))


def scoped_webhooks(user: User) -> Select:
    """Webhooks: an admin's business alone."""
    query = select(Webhook).order_by(Webhook.id)
    return query if user.role == "admin" else query.where(false())


def get_webhook(user: User, hook_id: int) -> Webhook:
    return get_scoped(user, scoped_webhooks(user), Webhook, hook_id, "Webhook")


def get_webhook_delivery(user: User, hook_id: int, delivery_id: int) -> WebhookDelivery:
    hook = get_webhook(user, hook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    return get_scoped(user, query, WebhookDelivery, delivery_id, "Delivery")
