"""Mystery waves: propose one visit per store over a period, within the rules, for the manager to
adjust and confirm.

The rules of a wave (`Wave.rules`):
- at most one visit per store per wave;
- `lockout_days` (default 30): a shopper visits the same store again only that many days after
  (or before) any other visit or assignment of theirs there;
- `shopper_ids`: the shoppers who may go (active shoppers of the region); none given: all of them;
- `peak_percent` (default 50): the share of visits at peak time, rounded half up; the others are
  off-peak. Peak time is when a service hall is busiest: a weekend day (10:00–16:00) or a
  weekday evening (17:00–20:00); off-peak is a weekday afternoon (14:00–17:00), in the store's
  own time zone.
The scenario mix ({scenario: percent}, summing to 100) is shared out by largest remainder.
Shoppers' loads are kept even; days are spread over the period. What cannot be placed without
breaking a rule is left out and reported with the reason.
"""

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.accounts.models import User, user_regions
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.assignments import mystery_checklist
from supervision.followup.models import Assignment
from supervision.notifications import triggers as notifications
from supervision.plans.models import Wave
from supervision.scoping import get_region, get_wave, scoped_waves
from supervision.stores.models import Store
from supervision.transitions import locked
from supervision.visits.models import Visit

DEFAULT_LOCKOUT_DAYS = 30
DEFAULT_PEAK_PERCENT = 50
# (first hour, end hour) of each kind of slot, local time.
HOURS = {("peak", "weekend"): (10, 16), ("peak", "weekday"): (17, 20),
         ("offpeak", "weekday"): (14, 17)}
SLOTS = ("peak", "offpeak")


@dataclass(frozen=True)
class Proposal:
    store_id: int
    shopper_id: int
    day: date
    slot: str  # "peak" | "offpeak"
    scenario: str | None


def day_kind(day: date) -> str:
    return "weekend" if day.weekday() >= 5 else "weekday"


def slot_days(slot: str, days: list[date]) -> list[date]:
    """The days of the period a slot can fall on (off-peak: weekdays only)."""
    return [day for day in days if (slot, day_kind(day)) in HOURS]


def shares(total: int, percents: dict[str, float]) -> Counter:
    """`total` shared by percent, by largest remainder (ties: the order given)."""
    if not percents:
        return Counter()
    exact = {key: total * value / 100 for key, value in percents.items()}
    counts = Counter({key: math.floor(value) for key, value in exact.items()})
    rest = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: -(exact[k] - counts[k]))[:max(rest, 0)]:
        counts[key] += 1
    return counts


def peak_count(total: int, peak_percent: float) -> int:
    return math.floor(total * peak_percent / 100 + 0.5)


def locked_out(history: dict, shopper_id: int, store_id: int, day: date, lockout: int) -> bool:
    return any(abs((day - other).days) < lockout
               for other in history.get((shopper_id, store_id), ()))


def propose(store_ids: list[int], shopper_ids: list[int], history: dict, days: list[date],
            rules: dict, mix: dict[str, float], seed: int) -> tuple[list[Proposal], list[dict]]:
    """The visits of a wave: one per store at most, never inside a lockout, only by the allowed
    shoppers, peak and off-peak and the scenarios within their shares. `history` maps
    (shopper, store) to the days that shopper was or will be there. Pure: the same input and
    seed give the same proposals. Returns (proposals, unfilled stores with the reason)."""
    rng = random.Random(seed)
    lockout = rules.get("lockout_days", DEFAULT_LOCKOUT_DAYS)
    stores = sorted(set(store_ids))
    rng.shuffle(stores)
    peaks = peak_count(len(stores), rules.get("peak_percent", DEFAULT_PEAK_PERCENT))
    slots = ["peak"] * peaks + ["offpeak"] * (len(stores) - peaks)
    rng.shuffle(slots)
    scenarios = [name for name, count in shares(len(stores), mix).items() for _ in range(count)]
    rng.shuffle(scenarios)
    scenarios += [None] * (len(stores) - len(scenarios))
    load: Counter = Counter({shopper: 0 for shopper in shopper_ids})
    on_day: Counter = Counter()
    proposals, unfilled = [], []
    for store_id, slot, scenario in zip(stores, slots, scenarios, strict=True):
        chosen = _place(store_id, slot, shopper_ids, history, days, lockout, load, on_day, rng)
        if isinstance(chosen, str):
            unfilled.append({"store_id": store_id, "slot": slot, "reason": chosen})
            continue
        shopper_id, day = chosen
        load[shopper_id] += 1
        on_day[day] += 1
        proposals.append(Proposal(store_id, shopper_id, day, slot, scenario))
    return proposals, unfilled


def _place(store_id, slot, shopper_ids, history, days, lockout, load, on_day, rng):
    """The least-loaded shopper and the least-used day that break no rule, or why none."""
    if not shopper_ids:
        return "no_shopper"
    fitting = slot_days(slot, days)
    if not fitting:
        return "no_day"
    shoppers = sorted(shopper_ids, key=lambda s: (load[s], rng.random()))
    ordered_days = sorted(fitting, key=lambda d: (on_day[d], rng.random()))
    for shopper_id in shoppers:
        for day in ordered_days:
            if not locked_out(history, shopper_id, store_id, day, lockout):
                return shopper_id, day
    return "lockout"


def window(day: date, slot: str, zone: str) -> tuple[datetime, datetime]:
    first, end = HOURS[(slot, day_kind(day))]
    tz = ZoneInfo(zone)
    return (datetime.combine(day, time(first), tz).astimezone(UTC),
            datetime.combine(day, time(end), tz).astimezone(UTC))


def slot_of(start: datetime, zone: str) -> str | None:
    """The slot a window starting at `start` is in (None: neither, e.g. a weekday morning)."""
    local = start.astimezone(ZoneInfo(zone))
    for (slot, kind), (first, end) in HOURS.items():
        if day_kind(local.date()) == kind and first <= local.hour < end:
            return slot
    return None


# The service ---------------------------------------------------------------------------------

def list_waves(user: User, filters: dict) -> list[Wave]:
    query = scoped_waves(user)
    if "region_id" in filters:
        query = query.where(Wave.region_id == filters["region_id"])
    return db.session.scalars(query).all()


def create_wave(user: User, data: dict) -> tuple[Wave, list[dict]]:
    """Check the wave, propose its visits (assignments "proposed", not shown to the shoppers)."""
    region = get_region(user, data["region_id"])
    if data["ends_on"] < data["starts_on"]:
        raise Invalid("The wave must end after it starts.",
                      {"json": {"ends_on": ["Must not be before starts_on."]}})
    mix = data.get("scenario_mix") or {}
    if mix and abs(sum(mix.values()) - 100) > 0.01:
        raise Invalid("The scenario mix must add up to 100%.",
                      {"json": {"scenario_mix": ["The percentages must add up to 100."]}})
    rules = {"lockout_days": DEFAULT_LOCKOUT_DAYS, "peak_percent": DEFAULT_PEAK_PERCENT,
             **(data.get("rules") or {})}
    stores = _stores(region.id, data.get("store_ids"))
    shoppers = _shoppers(region.id, rules.get("shopper_ids"))
    wave = Wave(name=data["name"], region_id=region.id,
                checklist_id=mystery_checklist(data["checklist"]).id,
                starts_on=data["starts_on"], ends_on=data["ends_on"], scenario_mix=mix,
                store_ids=sorted(data["store_ids"]) if data.get("store_ids") else None,
                rules=rules, status="draft", note=data.get("note"), created_by_id=user.id)
    db.session.add(wave)
    db.session.flush()
    days = [wave.starts_on + timedelta(days=n)
            for n in range((wave.ends_on - wave.starts_on).days + 1)]
    days = [day for day in days if day >= _earliest_day(stores)]
    history = visit_history([s.id for s in stores], shoppers)
    proposals, unfilled = propose([s.id for s in stores], shoppers, history, days, rules, mix,
                                  seed=wave.id)
    zones = {store.id: store.timezone for store in stores}
    for proposal in proposals:
        start, end = window(proposal.day, proposal.slot, zones[proposal.store_id])
        db.session.add(Assignment(
            store_id=proposal.store_id, checklist_id=wave.checklist_id,
            shopper_id=proposal.shopper_id, window_start=start, window_end=end,
            scenario=proposal.scenario, status="proposed", wave_id=wave.id,
            slot=proposal.slot, created_by_id=user.id))
    db.session.flush()
    record(user, "create", "wave", wave.id, region_id=region.id, proposed=len(proposals),
           unfilled=len(unfilled))
    return wave, unfilled


def _earliest_day(stores: list[Store]) -> date:
    """Tomorrow in the stores' zones: a wave proposes nothing for a day already under way."""
    now = utcnow()
    return max(now.astimezone(ZoneInfo(store.timezone)).date() for store in stores) \
        + timedelta(days=1)


def _stores(region_id: int, store_ids: list[int] | None) -> list[Store]:
    query = select(Store).where(Store.region_id == region_id, Store.active).order_by(Store.id)
    if store_ids:
        query = query.where(Store.id.in_(store_ids))
    stores = db.session.scalars(query).all()
    if store_ids and len(stores) != len(set(store_ids)):
        raise Invalid("Some stores are not active stores of the wave's region.",
                      {"json": {"store_ids": ["Each must be an active store of the region."]}})
    if not stores:
        raise Invalid("The region has no active store.",
                      {"json": {"region_id": ["No active store in the region."]}})
    return stores


def _shoppers(region_id: int, shopper_ids: list[int] | None) -> list[int]:
    query = (select(User.id).join(user_regions, user_regions.c.user_id == User.id)
             .where(User.role == "shopper", User.active, user_regions.c.region_id == region_id)
             .order_by(User.id))
    allowed = list(db.session.scalars(query))
    if shopper_ids:
        if not set(shopper_ids) <= set(allowed):
            raise Invalid("", {"json": {"rules": {"shopper_ids": [
                "Each must be an active shopper of the region."]}}})
        return sorted(set(shopper_ids))
    return allowed


def visit_history(store_ids: list[int], shopper_ids: list[int],
                  leave_out: int | None = None) -> dict:
    """(shopper, store) → the local days that shopper visited or is to visit the store: their
    mystery visits, and their assignments not cancelled (proposals of other waves too)."""
    history = defaultdict(list)
    if not store_ids or not shopper_ids:
        return history
    assignments = db.session.execute(
        select(Assignment.shopper_id, Assignment.store_id, Assignment.window_start,
               Store.timezone).join(Store)
        .where(Assignment.store_id.in_(store_ids), Assignment.shopper_id.in_(shopper_ids),
               Assignment.status != "cancelled", Assignment.id != (leave_out or 0)))
    visits = db.session.execute(
        select(Visit.author_id, Visit.store_id, Visit.started_at, Store.timezone).join(Store)
        .where(Visit.kind == "mystery", Visit.store_id.in_(store_ids),
               Visit.author_id.in_(shopper_ids)))
    for shopper_id, store_id, at, zone in [*assignments, *visits]:
        history[(shopper_id, store_id)].append(at.astimezone(ZoneInfo(zone)).date())
    return history


def wave_assignments(wave: Wave) -> list[Assignment]:
    return db.session.scalars(select(Assignment).where(
        Assignment.wave_id == wave.id, Assignment.status != "cancelled")
        .order_by(Assignment.window_start, Assignment.id)).all()


def unfilled_stores(wave: Wave) -> list[int]:
    """The wave's stores with no visit in it (none could be placed, or it was cancelled)."""
    placed = {a.store_id for a in wave_assignments(wave)}
    stores = _stores(wave.region_id, wave.store_ids)
    return [store.id for store in stores if store.id not in placed]


def check_wave_change(assignment: Assignment) -> None:
    """A wave's visit changed by hand still keeps the wave's rules: its shopper is allowed, its
    window is in the period and in a slot, and no lockout is broken. Raises Conflict (409)
    naming the rule."""
    wave = db.session.get(Wave, assignment.wave_id)
    zone = assignment.store.timezone
    allowed = _shoppers(wave.region_id, wave.rules.get("shopper_ids"))
    if assignment.shopper_id not in allowed:
        raise Conflict("The shopper is not one of the wave's shoppers.",
                       {"json": {"shopper_id": ["Not one of the wave's shoppers."]}})
    day = assignment.window_start.astimezone(ZoneInfo(zone)).date()
    if not wave.starts_on <= day <= wave.ends_on:
        raise Conflict("The visit must fall within the wave's period.",
                       {"json": {"window_start": ["Outside the wave's period."]}})
    slot = slot_of(assignment.window_start, zone)
    if slot is None:
        raise Conflict("The visit must start at peak or off-peak time.",
                       {"json": {"window_start": ["Neither peak nor off-peak time."]}})
    assignment.slot = slot
    history = visit_history([assignment.store_id], [assignment.shopper_id],
                            leave_out=assignment.id)
    lockout = wave.rules.get("lockout_days", DEFAULT_LOCKOUT_DAYS)
    if locked_out(history, assignment.shopper_id, assignment.store_id, day, lockout):
        raise Conflict(f"This shopper was at this store less than {lockout} days before or "
                       "after: the lockout would be broken.",
                       {"json": {"shopper_id": [f"Lockout of {lockout} days broken."]}})


def confirm_wave(user: User, wave_id: int) -> Wave:
    """The manager confirms the wave: its proposals become planned assignments and each
    shopper is told, as for an assignment made by hand. Confirming again changes nothing."""
    wave = locked(get_wave(user, wave_id))
    if wave.status == "confirmed":
        return wave
    proposed = [a for a in wave_assignments(wave) if a.status == "proposed"]
    for assignment in proposed:
        assignment.status = "planned"
    wave.status, wave.confirmed_at = "confirmed", utcnow()
    db.session.flush()
    for assignment in proposed:
        notifications.assignment_created(assignment)
    record(user, "confirm", "wave", wave.id, assignments=len(proposed))
    return wave
