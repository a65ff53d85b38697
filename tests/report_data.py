"""Realistic demo data for the report tests and bench/reports.py: stores of one region, audits
and mystery visits with notes, staff, key-moment times, real photos, actions and disputes."""

import io
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from supervision.accounts.models import User
from supervision.accounts.tokens import issue_token
from supervision.checklists.services import current_version, definition_of
from supervision.db import db
from supervision.followup.models import Action, Assignment, Dispute
from supervision.stores.models import Staff
from supervision.visits import photos as pipeline
from supervision.visits.models import Response, Visit
from supervision.visits.services import receive_photo
from supervision.visits.snapshot import freeze_score
from tests.conftest import best_value, build_world
from tests.images import picture

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHOTO = {"texture": "photo", "quality": 90}  # photo-like JPEGs: they compress like real ones
STORES = [
    ("SH001", "上海南京东路营业厅", "Shanghai Nanjing Rd E.", "王丽"),
    ("SH002", "上海徐家汇营业厅", "Shanghai Xujiahui", "李强"),
    ("HZ001", "杭州武林广场营业厅", "Hangzhou Wulin Square", "张敏"),
]
SHOPPER_NAME = "林暗访"
SUPERVISOR_NAME = "陈督导"
POSTER_NOTE = "入口玻璃门上仍贴着 3 月的“流量包”海报，已过期两周。"
RED_LINE_NOTE = "14:21 柜员说：“这是你自己没看清楚，跟我们没关系。”随后转身处理下一位顾客。"
IMPRESSION = (
    "大厅整洁明亮，进门 35 秒被流动岗问候，咨询环节讲解清楚。但在对账单提出异议后，柜员语气生硬，"
    "把责任推给顾客，没有先安抚情绪；被请到接待室后主任态度很好，承诺今天下午 5 点前回电。"
    "离开时有员工起身致谢。"
)


def local(day: date, hhmmss: str) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmmss, "%H:%M:%S").time(), SHANGHAI)


def add_visit(app, store_id: int, author_id: int, slug: str, started: datetime, answers=None,
              notes=None, staff=None, na=(), moments=(), photos=None, visit_notes=None,
              status="published", at=None, assignment_id=None) -> uuid.UUID:
    """A complete visit (unnamed items get their best answer), photos received through the
    visits service and processed into derivatives, scored and published. `at`: item id → when
    it was answered; photos are taken a minute apart from the start."""
    version = current_version(slug)
    definition = definition_of(version)
    given = {item.id: best_value(item) for _, item in definition.items()} | dict(answers or {})
    visit = Visit(
        id=uuid.uuid4(), store_id=store_id, checklist_version_id=version.id,
        kind=definition.kind, status="draft", author_id=author_id, started_at=started,
        assignment_id=assignment_id,
        ended_at=started + timedelta(minutes=35), notes=visit_notes,
        moments=[{"moment": m, "at": at.isoformat()} for m, at in moments],
        responses=[Response(item_id=k, value=None if k in na else v, na=k in na,
                            note=(notes or {}).get(k), staff=(staff or {}).get(k),
                            at=(at or {}).get(k))
                   for k, v in given.items()],
    )
    db.session.add(visit)
    db.session.commit()
    _attach_photos(app, visit.id, author_id, photos or {})
    visit = db.session.get(Visit, visit.id)
    for n, photo in enumerate(sorted(visit.photos, key=lambda p: str(p.item_id)), 1):
        photo.taken_at = started + timedelta(minutes=2 * n)
    freeze_score(visit, definition)
    visit.status = status
    visit.submitted_at = started + timedelta(hours=1) if status != "draft" else None
    visit.published_at = started + timedelta(hours=1) if status == "published" else None
    db.session.commit()
    return visit.id


def _attach_photos(app, visit_id, author_id: int, photos: dict[str, list[bytes]]) -> None:
    author = db.session.get(User, author_id)
    limits = (app.config["PHOTO_MAX_BYTES"], app.config["PHOTO_MAX_PIXELS"])
    for item_id, images in photos.items():
        for image in images:
            photo, _ = receive_photo(author, visit_id, uuid.uuid4(), item_id, io.BytesIO(image),
                                     "image/jpeg", limits)
            pipeline.process(photo)
            db.session.commit()


def build_region(app, region_code="EAST", stores=STORES, history=3, photo_size=(1800, 1350),
                 today: date | None = None) -> dict:
    """One region, its stores and people; a featured audit and a featured mystery visit (with
    a red line) at the first store; `history` earlier audits per store; actions and disputes.
    `photo_size` None leaves the photos out."""
    today = today or datetime.now(SHANGHAI).date()
    world = build_world(
        app, regions={"east": {"code": region_code, "name": "华东区", "name_en": "East"}},
        stores={code: {"region": "east", "code": code, "name": name, "name_en": en,
                       "manager_name": manager, "address": "上海市黄浦区南京东路300号"}
                for code, name, en, manager in stores},
        people={role: {"role": role, "regions": [] if role == "admin" else ["east"],
                       "email": f"{role}@example.com", "name": name}
                for role, name in (("admin", "系统管理员"), ("manager", "周经理"),
                                   ("supervisor", SUPERVISOR_NAME), ("shopper", SHOPPER_NAME))})
    region, rows = world["east"], [world[code] for code, *_ in stores]
    ids = {role: world[role].id for role in ("admin", "manager", "supervisor", "shopper")}
    first = rows[0]
    audit = featured_audit(app, first.id, ids["supervisor"], today, photo_size)
    mystery = featured_mystery(app, first.id, ids["shopper"], today, photo_size)
    earlier = []
    for index, store in enumerate(rows):
        made = add_history(app, store.id, ids["supervisor"], today, history, seed=index)
        earlier = earlier or made
    add_followup(first.id, audit, ids["supervisor"], today, earlier[-1] if earlier else None)
    return {"region_id": region.id, "store_ids": [s.id for s in rows], "users": ids,
            "tokens": {role: issue_token(db.session.get(User, user_id))
                       for role, user_id in ids.items()},
            "audit": audit, "mystery": mystery, "store_name": first.name,
            "store_name_en": first.name_en}


def featured_audit(app, store_id, supervisor_id, today, photo_size) -> uuid.UUID:
    photos = {item: [picture(*photo_size, seed=seed, **PHOTO)] for seed, item in enumerate(
        ("img_signage_clean", "img_no_expired_posters", "img_hall_clean", "img_uniform_badge",
         "sal_demo_devices"), 1)} if photo_size else {}
    return add_visit(
        app, store_id, supervisor_id, "storefront-audit",
        local(today - timedelta(days=2), "10:05:00"),
        answers={"img_no_expired_posters": False, "svc_greeting_10s": False,
                 "svc_wait_minutes": 18, "con_plain_language": 3, "txn_repeat_terms": False,
                 "svc_umbrella": False, "svc_special_care": False},
        notes={"img_no_expired_posters": POSTER_NOTE,
               "svc_greeting_10s": "10:12 两位顾客进门后约 40 秒无人问候，流动岗在整理宣传单。",
               "img_signage_clean": "门头灯箱全亮，字迹清洁，入口无杂物。",
               "svc_thanks_departure": "每位顾客离开时都起身致谢：“谢谢光临，祝您愉快！”",
               "con_ask_usage": "先问清每月流量和通话习惯，再推荐 59 元套餐。"},
        staff={"svc_thanks_departure": "张敏 0231", "con_ask_usage": "李强 0219",
               "svc_greeting_10s": "刘洋 0225"},
        photos=photos,
        visit_notes="高峰时段（10:00–10:30）巡检；厅主任王丽陪同。",
    )


SCENARIO = ("以普通顾客身份咨询 5G 套餐并缴纳话费；对上月账单中 30 元增值业务扣费提出异议，"
            "观察争议处理。")
BEST_MOMENT = "14:33 离开时保安起身致谢并提醒“外面下雨，您慢走”。"
PROPOSAL = {"title": {"zh": "整改：高峰时段取号到叫号不超过 10 分钟",
                      "en": "Fix: at peak hours, call customers within 10 minutes of the ticket"},
            "question": {"zh": "今天等候最长的是哪个时段、哪类业务？",
                         "en": "Which hour and which service had the longest wait today?"}}


def featured_mystery(app, store_id, shopper_id, today, photo_size) -> uuid.UUID:
    day = today - timedelta(days=1)
    version = current_version("mystery-visit")
    assignment = Assignment(store_id=store_id, checklist_id=version.checklist_id,
                            shopper_id=shopper_id, window_start=local(day, "09:00:00"),
                            window_end=local(day, "18:00:00"), scenario=SCENARIO, status="done",
                            created_by_id=shopper_id)
    db.session.add(assignment)
    db.session.commit()
    photos = {"arr_signage": [picture(*photo_size, seed=11, **PHOTO)],
              "dep_overall_impression": [picture(*photo_size, seed=12 + i, **PHOTO)
                                         for i in range(3)],
              } if photo_size else {}
    times = [("entered", "14:02:05"), ("greeted", "14:02:40"), ("ticket_taken", "14:03:10"),
             ("called", "14:15:40"), ("dispute_raised", "14:19:05"),
             ("led_to_reception", "14:23:30"), ("service_ended", "14:31:00"),
             ("departed", "14:33:20")]
    return add_visit(
        app, store_id, shopper_id, "mystery-visit", local(day, "14:02:05"),
        answers={"scenario_transaction": True, "scenario_dispute": True,
                 "dis_red_argue_blame": True, "dis_calm_first": False, "wai_minutes": 12.5,
                 "dep_overall_impression": IMPRESSION,
                 "dep_best_moment": BEST_MOMENT},
        notes={"dis_red_argue_blame": RED_LINE_NOTE,
               "dis_calm_first": "一开口就解释计费规则，没有道歉。"},
        staff={"dis_red_argue_blame": "工号 0217", "dep_thanks": "保安 周师傅"},
        na=("dep_umbrella",),
        moments=[(m, local(day, at)) for m, at in times],
        photos=photos, assignment_id=assignment.id,
        at={"dis_red_argue_blame": local(day, "14:21:00"),
            "dis_calm_first": local(day, "14:19:40")},
    )


HISTORY_MISSES = ["svc_greeting_10s", "txn_repeat_terms", "inf_feedback_book",
                  "con_explain_alternatives", "sal_relevant_offer", "svc_guide_queue",
                  "img_hall_clean", "inf_competitor_info", "sal_matching_offer"]
DELIGHTERS = ("svc_warm_reminder", "svc_umbrella", "svc_special_care", "con_one_step_further")


def add_history(app, store_id, supervisor_id, today, count: int, seed: int) -> list:
    """Earlier audits, three weeks apart, each missing a few items (posters keep failing)."""
    rnd, made = random.Random(seed), []
    for n in range(count):
        started = local(today - timedelta(days=10 + 21 * (count - n)), "09:40:00")
        misses = {"img_no_expired_posters": False} if n % 2 == 0 else {}
        misses |= {item: False for item in rnd.sample(HISTORY_MISSES, 2 + seed % 3)}
        misses |= {item: rnd.random() < 0.3 for item in DELIGHTERS}
        misses["svc_smile_eye_contact"] = rnd.choice([3, 4, 5])
        misses["svc_wait_minutes"] = rnd.choice([6, 12, 16, 22])
        made.append(add_visit(app, store_id, supervisor_id, "storefront-audit", started, misses))
    return made


# The first store's roster: (name, badge, position).
ROSTER = [("王丽", "0201", "厅主任"), ("张敏", "0231", "营业员"), ("李强", "0219", "营业员"),
          ("刘洋", "0225", "大堂经理")]


def add_roster(store_id) -> dict[str, int]:
    """The store's staff; returns {name: staff id}."""
    staff = [Staff(store_id=store_id, name=name, badge=badge, position=position)
             for name, badge, position in ROSTER]
    db.session.add_all(staff)
    db.session.flush()
    return {person.name: person.id for person in staff}


def add_followup(store_id, audit_id, supervisor_id, today, earlier_id=None) -> None:
    """The featured audit's actions (two agreed with owners from the roster, one proposal),
    and when there is an earlier audit, the actions agreed at it: one verified at the featured
    audit, one still open and overdue."""
    now = datetime.now(UTC)
    staff = add_roster(store_id)
    audit_agreed = db.session.get(Visit, audit_id).started_at + timedelta(hours=1)
    if earlier_id is not None:
        earlier = db.session.get(Visit, earlier_id)
        agreed = earlier.started_at + timedelta(hours=1)
        db.session.add_all([
            Action(store_id=store_id, visit_id=earlier_id, item_id="svc_guide_queue",
                   title="取号机旁安排引导员，先问业务再取号", owner="张敏",
                   owner_staff_id=staff["张敏"], due_date=today - timedelta(days=25),
                   status="verified", created_by_id=supervisor_id, created_at=agreed,
                   agreed_at=agreed, done_at=agreed + timedelta(days=3),
                   verified_at=now - timedelta(days=2), verified_visit_id=audit_id),
            Action(store_id=store_id, visit_id=earlier_id, item_id="txn_repeat_terms",
                   title="办理前复述套餐关键条款，班前会演练", owner="李强",
                   owner_staff_id=staff["李强"], due_date=today - timedelta(days=20),
                   status="agreed", created_by_id=supervisor_id, created_at=agreed,
                   agreed_at=agreed),
        ])
    db.session.add(Action(
        store_id=store_id, visit_id=audit_id, item_id="svc_wait_minutes",
        title=PROPOSAL["title"]["zh"], coaching_question=PROPOSAL["question"]["zh"],
        texts=PROPOSAL, due_date=today - timedelta(days=1), status="proposed",
        created_by_id=supervisor_id))
    db.session.add_all([
        Action(store_id=store_id, visit_id=audit_id, item_id="img_no_expired_posters",
               title="撤下过期海报，每周一开门前由值班长核对全部海报和台卡", owner="王丽",
               owner_staff_id=staff["王丽"], due_date=today + timedelta(days=3),
               status="agreed", created_by_id=supervisor_id, agreed_at=audit_agreed,
               coaching_question="哪些海报和台卡有有效期？谁在什么时候核对？"),
        Action(store_id=store_id, visit_id=audit_id, item_id="svc_greeting_10s",
               title="流动岗 10 秒问候演练，高峰时段增派一人", owner="刘洋",
               owner_staff_id=staff["刘洋"], due_date=today - timedelta(days=1),
               status="agreed", created_by_id=supervisor_id, agreed_at=audit_agreed),
        Action(store_id=store_id, title="补齐意见簿并放在取号机旁", owner="王丽",
               owner_staff_id=staff["王丽"], due_date=today - timedelta(days=20), status="done",
               created_by_id=supervisor_id, created_at=now - timedelta(days=30),
               agreed_at=now - timedelta(days=30), done_at=now - timedelta(days=21),
               done_note="意见簿已补齐，放在取号机右侧。"),
    ])
    received = now - timedelta(days=5)
    db.session.add_all([
        Dispute(store_id=store_id, reference="SH001-0001", category="service",
                matter="顾客对 4 月话费中的 30 元增值业务扣费有异议", first_handler="刘洋",
                received_at=received, due_at=received + timedelta(hours=8), status="closed",
                closed_at=received + timedelta(hours=3)),
        Dispute(store_id=store_id, reference="SH001-0002", category="return",
                matter="新购手机屏幕有坏点，要求退货", first_handler="张敏",
                received_at=received, due_at=received + timedelta(days=2), status="closed",
                closed_at=received + timedelta(days=3)),
        Dispute(store_id=store_id, reference="SH001-0003", category="quality_check",
                matter="宽带频繁掉线，要求检测并减免月租", first_handler="李强",
                received_at=now - timedelta(days=20), due_at=now - timedelta(days=5),
                status="open"),
    ])
    db.session.commit()
