"""Demo data: regions, ~20 stores with Chinese names, the demo accounts, the demo store's staff,
its visits and the store loop in every state (idempotent)."""

import base64
import hashlib
import itertools
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from supervision.accounts.models import User
from supervision.db import db, utcnow
from supervision.followup.models import Action, ActionEvidence, Query
from supervision.storage import get_storage
from supervision.stores.models import Region, Staff, Store
from supervision.visits import photos as pipeline
from supervision.visits.models import Signoff, Visit
from supervision.visits.seed import demo_photo, plan_visit_id, seed_visits, signature_png
from supervision.visits.services import body_hash

REGIONS = [
    ("EAST", "华东区", "East"),
    ("SOUTH", "华南区", "South"),
    ("NORTH", "华北区", "North"),
]

# (code, name, English name, region, address, lat, lon)
STORES = [
    ("SH001", "上海南京东路营业厅", "Shanghai Nanjing Rd E.", "EAST", "上海市黄浦区南京东路300号", 31.2387, 121.4810),
    ("SH002", "上海徐家汇营业厅", "Shanghai Xujiahui", "EAST", "上海市徐汇区漕溪北路88号", 31.1955, 121.4365),
    ("SH003", "上海陆家嘴营业厅", "Shanghai Lujiazui", "EAST", "上海市浦东新区陆家嘴环路1000号", 31.2397, 121.4998),
    ("HZ001", "杭州武林广场营业厅", "Hangzhou Wulin Square", "EAST", "杭州市拱墅区武林广场21号", 30.2741, 120.1652),
    ("HZ002", "杭州西溪营业厅", "Hangzhou Xixi", "EAST", "杭州市西湖区文二西路551号", 30.2796, 120.0870),
    ("NJ001", "南京新街口营业厅", "Nanjing Xinjiekou", "EAST", "南京市秦淮区中山南路1号", 32.0412, 118.7843),
    ("SZ001", "苏州观前街营业厅", "Suzhou Guanqian St.", "EAST", "苏州市姑苏区观前街158号", 31.3102, 120.6262),
    ("GZ001", "广州天河城营业厅", "Guangzhou Tianhe City", "SOUTH", "广州市天河区天河路208号", 23.1322, 113.3241),
    ("GZ002", "广州北京路营业厅", "Guangzhou Beijing Rd", "SOUTH", "广州市越秀区北京路238号", 23.1257, 113.2691),
    ("SZ101", "深圳华强北营业厅", "Shenzhen Huaqiangbei", "SOUTH", "深圳市福田区华强北路1019号", 22.5431, 114.0866),
    ("SZ102", "深圳南山科技园营业厅", "Shenzhen Nanshan Tech Park", "SOUTH", "深圳市南山区科苑路15号", 22.5405, 113.9530),
    ("FS001", "佛山祖庙营业厅", "Foshan Zumiao", "SOUTH", "佛山市禅城区祖庙路33号", 23.0305, 113.1145),
    ("DG001", "东莞南城营业厅", "Dongguan Nancheng", "SOUTH", "东莞市南城区鸿福路106号", 23.0205, 113.7518),
    ("BJ001", "北京王府井营业厅", "Beijing Wangfujing", "NORTH", "北京市东城区王府井大街138号", 39.9139, 116.4102),
    ("BJ002", "北京中关村营业厅", "Beijing Zhongguancun", "NORTH", "北京市海淀区中关村大街27号", 39.9836, 116.3155),
    ("BJ003", "北京国贸营业厅", "Beijing Guomao", "NORTH", "北京市朝阳区建国门外大街1号", 39.9087, 116.4605),
    ("TJ001", "天津滨江道营业厅", "Tianjin Binjiang Rd", "NORTH", "天津市和平区滨江道208号", 39.1215, 117.2010),
    ("SJZ01", "石家庄中山路营业厅", "Shijiazhuang Zhongshan Rd", "NORTH", "石家庄市长安区中山东路39号", 38.0428, 114.5149),
    ("TY001", "太原柳巷营业厅", "Taiyuan Liuxiang", "NORTH", "太原市迎泽区柳巷南路9号", 37.8676, 112.5650),
    ("JN001", "济南泉城路营业厅", "Jinan Quancheng Rd", "NORTH", "济南市历下区泉城路180号", 36.6652, 117.0236),
]

MANAGERS = ["王丽", "李强", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳"]

# (email, name, role, region codes)
DEMO_USERS = [
    ("admin@example.com", "系统管理员", "admin", []),
    ("manager@example.com", "周经理", "manager", ["EAST", "SOUTH"]),
    ("supervisor@example.com", "陈督导", "supervisor", ["EAST"]),
    ("shopper@example.com", "林暗访", "shopper", ["EAST"]),
    ("store@example.com", "王丽", "store_manager", []),  # the manager of DEMO_STORE
]
# The store the demo supervisor audits and the demo store manager runs.
DEMO_STORE = "SH001"
# Its roster: (badge, name, position, still at the store).
STAFF = [
    ("0201", "王丽", "厅主任", True), ("0225", "刘洋", "大堂经理", True),
    ("0228", "王敏", "流动岗", True), ("0233", "陈洁", "营业员", True),
    ("0231", "张敏", "营业员", True), ("0219", "李强", "营业员", True),
    ("0240", "周建国", "保安", True), ("0236", "赵静", "营业员", False),
]
# Visits of visits.seed.PLAN at the demo store: an audit 19 days ago, a mystery visit 10 days
# ago (published at the seed), the audit of 6 days ago that the store manager signed off.
EARLIER_AUDIT, MYSTERY, SIGNED_AUDIT = 5, 12, 13
OWNERS = ["刘洋", "王敏", "陈洁", "张敏", "李强", "王丽"]
SIGNOFF_COMMENT = "同意以上行动，本周内整改完毕。/ Agreed; we will fix these this week."
FIX_NOTE = "已按要求整改，照片为整改后现场。/ Fixed as agreed; the photos show the result."
APPROVED = "照片清楚，整改到位，验收通过。/ Clear photos, properly fixed: approved."
REJECTED = ("照片只拍到一角，看不出是否全部整改，请拍全景再提交。/ The photo shows one corner "
            "only; send a photo of the whole area.")
DISMISSED = ("门店装修期间该区域封闭，装修后再评估。/ The area is closed while the store is "
             "refitted; to be looked at again afterwards.")
# Store classes (tags plans select by): the busiest halls are class A.
CLASS_A = ("SH001", "HZ001", "NJ001", "GZ001")
# The weekly audit plan of the class A halls of the east, started eight weeks before the seed:
# the seeded audits fulfil some of its due audits, the others were missed.
PLAN_NAME = "A 类厅每周巡店 / Weekly round of class A halls"
PLAN_WEEKS_AGO = 8
WAVE_NAME = "下月暗访第一波 / Next month's first mystery wave"
WAVE_MIX = {"咨询 / consultation": 60, "争议 / dispute": 40}
QUERY_WINDOW = timedelta(hours=72)
QUERY_REASON = ("门店当天的监控显示这一项做到了，请复核。/ The store's CCTV of that day shows "
                "this was done: please check again.")
QUERY_RULING = ("监控片段的时间与暗访时间不符，维持原结果。/ The CCTV clip is not from the time "
                "of the visit: the result stands.")


def seed(password: str) -> str:
    regions = _seed_regions()
    stores = _seed_stores(regions)
    users = _seed_users(regions, stores, password)
    staff = _seed_staff(next(s for s in stores if s.code == DEMO_STORE))
    plan = _seed_plan(regions["EAST"], users)  # before the visits: they fulfil its audits
    visits = _seed_visits(stores, users)
    _seed_loop(users, staff)
    if plan is not None:
        _seed_lateness_and_wave(regions["EAST"], users)
    db.session.commit()
    return (
        f"demo data: {len(regions)} regions, {len(stores)} stores, {len(users)} accounts, "
        f"{visits} visits"
    )


def _get_or_add(model, lookup: dict, **values):
    found = db.session.scalars(select(model).filter_by(**lookup)).first()
    if found is None:
        found = model(**lookup, **values)
        db.session.add(found)
    return found


def _seed_regions() -> dict[str, Region]:
    return {
        code: _get_or_add(Region, {"code": code}, name=name, name_en=name_en)
        for code, name, name_en in REGIONS
    }


def _seed_stores(regions: dict[str, Region]) -> list[Store]:
    stores = []
    for index, (code, name, name_en, region, address, lat, lon) in enumerate(STORES):
        stores.append(_get_or_add(
            Store, {"code": code}, name=name, name_en=name_en, region=regions[region],
            address=address, lat=lat, lon=lon, manager_name=MANAGERS[index % len(MANAGERS)],
            tags=["A"] if code in CLASS_A else ["B"],
        ))
    db.session.flush()
    return stores


def _seed_users(regions: dict[str, Region], stores: list[Store], password: str
                ) -> dict[str, User]:
    users = {}
    demo_store = [s for s in stores if s.code == DEMO_STORE]
    for email, name, role, codes in DEMO_USERS:
        user = _get_or_add(User, {"email": email}, name=name, role=role,
                           regions=[regions[c] for c in codes],
                           stores=demo_store if role == "store_manager" else [])
        if user.id is None:  # a seed again leaves passwords, and so sessions and tokens, alone
            user.set_password(password)
        users[role] = user
    db.session.flush()
    return users


def _seed_plan(east: Region, users: dict[str, User]):
    """The weekly plan of the class A halls, once; None when it was seeded before."""
    from supervision.plans.models import AuditPlan
    from supervision.plans.services import create_plan

    if db.session.scalars(select(AuditPlan).where(AuditPlan.name == PLAN_NAME)).first():
        return None
    started = utcnow() - timedelta(weeks=PLAN_WEEKS_AGO)
    return create_plan(users["manager"], {
        "name": PLAN_NAME, "region_id": east.id, "checklist": "storefront-audit", "tag": "A",
        "recurrence": {"every_days": 7}, "window_days": 3,
        "starts_on": started.date()}, now=started)


def _seed_lateness_and_wave(east: Region, users: dict[str, User]) -> None:
    """The plan's audits not done are overdue, then missed; a wave for next month, proposed."""
    from supervision.plans.services import sweep
    from supervision.plans.waves import create_wave

    sweep(utcnow())
    start = utcnow().date() + timedelta(days=7)
    create_wave(users["manager"], {
        "name": WAVE_NAME, "region_id": east.id, "checklist": "mystery-visit",
        "starts_on": start, "ends_on": start + timedelta(days=27), "scenario_mix": WAVE_MIX,
        "rules": {"lockout_days": 30, "peak_percent": 50}})


def _seed_visits(stores: list[Store], users: dict[str, User]) -> int:
    return seed_visits({store.code: store for store in stores}, users)


def _seed_staff(store: Store) -> dict[str, Staff]:
    """The demo store's roster, by name (one has left the store)."""
    staff = {name: _get_or_add(Staff, {"store_id": store.id, "badge": badge}, name=name,
                               position=position, active=active)
             for badge, name, position, active in STAFF}
    db.session.flush()
    return staff


def _seed_loop(users: dict[str, User], staff: dict[str, Staff]) -> None:
    """The demo store's actions in every state and its signed audit; done once (a signed audit
    is never touched again)."""
    earlier, mystery, signed = (db.session.get(Visit, plan_visit_id(n))
                                for n in (EARLIER_AUDIT, MYSTERY, SIGNED_AUDIT))
    if signed is None or signed.signoff is not None:
        return
    for audit in (earlier, signed):  # proposed at the end of the walk, not at the seed
        for action in _proposals(audit):
            action.created_at = audit.ended_at
    owners = itertools.cycle([staff[name] for name in OWNERS])
    store_manager, supervisor = users["store_manager"], users["supervisor"]
    _follow_earlier_audit(earlier, signed, owners, store_manager, supervisor)
    signoff = _sign(signed, supervisor)
    for n, action in enumerate(_proposals(signed)):  # the plan agreed at the sign-off
        _agree(action, next(owners), signoff.signed_at)
        if n < 2:  # one fix waits for approval, another was sent back (due date kept)
            _fix(action, store_manager, signoff.signed_at + timedelta(days=1), photos=2 - n)
        if n == 1:
            _decide(action, supervisor, signoff.signed_at + timedelta(days=2), REJECTED,
                    approve=False)
    if mystery is not None and mystery.published_at is not None:
        for action in _proposals(mystery)[:1]:  # agreed in the app; the others wait
            _agree(action, next(owners), mystery.published_at)
        _query_upheld(mystery, store_manager, users["manager"])


def _query_upheld(mystery: Visit, store_manager: User, manager: User) -> None:
    """The store queried one failed item of the mystery result within its window; the reviewer
    upheld the result, with the reason."""
    mystery.queries_close_at = mystery.published_at + QUERY_WINDOW
    failed = next((row["item"] for row in mystery.score["items"]
                   if row["status"] == "failed"), None)
    if failed is None:
        return
    raised = mystery.published_at + timedelta(hours=20)
    db.session.add(Query(
        visit_id=mystery.id, item_id=failed, reason=QUERY_REASON, status="upheld",
        raised_by_id=store_manager.id, raised_at=raised, body_hash="demo",
        ruling_comment=QUERY_RULING, ruled_by_id=manager.id,
        ruled_at=raised + timedelta(hours=26)))


def _follow_earlier_audit(earlier: Visit, signed: Visit, owners, store_manager, supervisor):
    """Its first action fixed and approved, its second dismissed; the others verified at the
    signed audit when it found their item met, else still open (and by now overdue)."""
    met = {row["item"] for row in signed.score["items"] if row["status"] == "met"}
    agreed_at = earlier.started_at + timedelta(minutes=45)
    for n, action in enumerate(_proposals(earlier)):
        if n == 1:
            action.status, action.dismiss_reason = "dismissed", DISMISSED
            continue
        _agree(action, next(owners), agreed_at)
        if n == 0:
            _fix(action, store_manager, agreed_at + timedelta(days=1), photos=2)
            _decide(action, supervisor, agreed_at + timedelta(days=2), APPROVED)
        elif action.item_id in met:
            action.status, action.verified_visit_id = "verified", signed.id
            action.verified_at = signed.ended_at


def _proposals(visit: Visit) -> list[Action]:
    return list(db.session.scalars(select(Action).where(
        Action.visit_id == visit.id, Action.status == "proposed").order_by(Action.id)))


def _agree(action: Action, owner: Staff, at) -> None:
    action.status, action.agreed_at = "agreed", at
    action.owner_staff_id, action.owner = owner.id, owner.name


def _fix(action: Action, store_manager: User, at, photos: int) -> None:
    """Marked done at `at` with `photos` photos of the fix taken just before."""
    storage, limit = get_storage(), current_app.config["PHOTO_MAX_PIXELS"]
    for n in range(photos):
        evidence_id = uuid.uuid4()
        data = demo_photo(evidence_id)
        digest, size = _keep(data, pipeline.original_key), len(data)
        width, height = pipeline.make_derivatives(storage, digest, "image/jpeg", limit)
        db.session.add(ActionEvidence(
            id=evidence_id, action_id=action.id, status="processed", content_hash=digest,
            content_type="image/jpeg", width=width, height=height, size_bytes=size,
            taken_at=at - timedelta(minutes=10 * (photos - n)), uploaded_by_id=store_manager.id,
            received_at=at - timedelta(minutes=2)))
    action.status, action.done_note, action.done_at = "done", FIX_NOTE, at


def _decide(action: Action, supervisor: User, at, comment: str, approve=True) -> None:
    """Approved (verified), or sent back (reopened)."""
    action.decided_by_id, action.decided_at, action.decision_comment = supervisor.id, at, comment
    action.status = "verified" if approve else "reopened"
    if approve:
        action.verified_at = at


def _sign(visit: Visit, supervisor: User) -> Signoff:
    """The store manager's signature on the supervisor's tablet, after the walk."""
    png = signature_png(seed=7)
    # Kept as the sign-off keeps it: as received, and the copy it serves (the same bytes here).
    digest = _keep(png, pipeline.original_key)
    _keep(png, lambda digest: pipeline.derived_key(digest, "original", "image/png"))
    signed_at = visit.started_at + timedelta(minutes=40)
    store = visit.store
    location = {"lat": store.lat, "lon": store.lon, "accuracy_m": 12.0}
    body = {"name": store.manager_name, "comment": SIGNOFF_COMMENT, "signed_at": signed_at,
            "location": location,
            "signature": "data:image/png;base64," + base64.b64encode(png).decode()}
    signoff = Signoff(visit_id=visit.id, name=store.manager_name, comment=SIGNOFF_COMMENT,
                      signed_at=signed_at, signature_hash=digest, recorded_by_id=supervisor.id,
                      body_hash=body_hash(body), received_at=signed_at + timedelta(minutes=1),
                      **location)
    db.session.add(signoff)
    return signoff


def _keep(data: bytes, key_of) -> str:
    """Store `data` under key_of(its SHA-256); returns the hash."""
    storage = get_storage()
    digest = hashlib.sha256(data).hexdigest()
    path = storage.spool_file()
    try:
        path.write_bytes(data)
        storage.put_file(key_of(digest), path)
    finally:
        path.unlink(missing_ok=True)
    return digest
