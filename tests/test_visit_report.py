"""The visit report's page one can be trusted line by line: read back from the PDFs (pdftotext,
pypdf) as a store manager would — praise, peak and end, bonus apart, actions as they stand,
the mystery story from the timers, nothing for collectors only, the review mark."""

import base64
import re
import subprocess
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from supervision.checklists.services import current_version, definition_of
from supervision.db import db
from supervision.followup.models import Action, ActionEvidence
from supervision.reports.labels import translator
from supervision.visits.models import Response, Visit
from supervision.visits.seed import signature_png
from tests.conftest import OUTPUT, bearer, create_user
from tests.report_data import (
    BEST_MOMENT,
    IMPRESSION,
    PROPOSAL,
    SCENARIO,
    SHOPPER_NAME,
    add_visit,
    build_region,
    featured_mystery,
    local,
)

PAGES = OUTPUT / "reports"
LANGS = ["zh", "en"]


@pytest.fixture
def world(app, load_checklists):
    """The report test region without photos: featured audit and mystery, one earlier audit
    per store, actions (agreed, proposed, from the earlier audit)."""
    load_checklists()
    with app.app_context():
        built = build_region(app, photo_size=None, history=1)
    return built


def report(client, world, visit_id, lang: str, audience: str = "store") -> bytes:
    answer = client.get(f"/api/v1/visits/{visit_id}/report.pdf?lang={lang}&audience={audience}",
                        headers={"Authorization": f"Bearer {world['tokens']['manager']}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.data


def pages(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, whitespace removed (Chinese lines break anywhere)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return [flat(page.extract_text()) for page in PdfReader(path).pages]


def layout(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "layout.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def texts(slug: str, lang: str, field: str, app) -> dict[str, str]:
    with app.app_context():
        definition = definition_of(current_version(slug))
    return {item.id: getattr(item, field).get(lang)
            for _, item in definition.items() if getattr(item, field) is not None}


def item_texts(slug: str, lang: str, app, which) -> list[str]:
    """The report wording (report_text, else text) of the items `which(item)` selects."""
    with app.app_context():
        definition = definition_of(current_version(slug))
    return [(item.report_text or item.text).get(lang) for _, item in definition.items()
            if which(item)]


@pytest.mark.parametrize("lang", LANGS)
def test_clean_audit_page_one_praises_people_not_red_lines(app, client, world, tmp_path, lang):
    one = pages(report(client, world, world["audit"], lang), tmp_path)[0]
    for text in item_texts("storefront-audit", lang, app, lambda i: i.red_line or i.inverse):
        assert flat(text)[:30] not in one, text
    kept = "项红线全部守住" if lang == "zh" else "Noredlinewascrossed"
    assert kept in one
    assert ("督导总体记录" if lang == "zh" else "Thesupervisor'snotes") in one


@pytest.mark.parametrize("lang", LANGS)
def test_a_failed_thank_you_is_never_hidden_by_the_umbrella(app, client, world, tmp_path, lang):
    with app.app_context():
        visit_id = add_visit(app, world["store_ids"][1], world["users"]["supervisor"],
                             "storefront-audit", local(local_today(), "11:00:00"),
                             answers={"svc_thanks_departure": False, "svc_umbrella": True,
                                      "svc_warm_reminder": True, "svc_special_care": False})
        total = db.session.get(Visit, visit_id).total
    assert total < 100
    text = layout(report(client, world, visit_id, lang), tmp_path)
    row = next(line for line in text.splitlines()
               if line.strip().startswith("优质服务" if lang == "zh" else "Quality service")
               and "+" in line)
    cells = row.split()
    assert cells[-1].startswith("+") and cells[-2] != "100", row  # departure: 0 of 3, bonus apart
    assert "0 / 0" not in text and ("未加分" if lang == "zh" else "No bonus") in text
    assert ("含兴奋型加分" if lang == "zh" else "incl.delighterbonus") in flat(text)


@pytest.mark.parametrize("lang", LANGS)
def test_actions_as_they_really_are(client, world, tmp_path, lang):
    text = layout(report(client, world, world["audit"], lang), tmp_path)
    other = "en" if lang == "zh" else "zh"
    assert PROPOSAL["title"][lang] in text and PROPOSAL["title"][other] not in text
    assert ("Fix:" not in text) if lang == "zh" else not re.search("整改", text)
    proposal = next(line for line in text.splitlines() if PROPOSAL["title"][lang][:12] in line)
    assert ("待确认" if lang == "zh" else "To confirm") in proposal
    assert "逾期" not in proposal and "Overdue" not in proposal
    assert "商定的改进行动" not in text and "Agreed actions" not in text
    earlier = text[text.index("上次到访的行动" if lang == "zh" else "Last visit's actions"):]
    verified = next(line for line in earlier.splitlines() if "取号机旁安排引导员" in line)
    overdue = next(line for line in earlier.splitlines() if "办理前复述套餐关键条款" in line)
    assert ("已验收" if lang == "zh" else "Verified") in verified
    assert ("已逾期" if lang == "zh" else "Overdue") in overdue


@pytest.mark.parametrize("lang", LANGS)
def test_mystery_page_one_tells_the_story_from_the_timers(app, client, world, tmp_path, lang):
    data = report(client, world, world["mystery"], lang)
    one = pages(data, tmp_path)[0]
    assert flat(SCENARIO) in one and flat(IMPRESSION)[:60] in one and flat(BEST_MOMENT) in one
    minutes = "分" if lang == "zh" else "min"
    seconds = "秒" if lang == "zh" else "s"
    # entered 14:02:05, greeted 14:02:40, ticket 14:03:10, called 14:15:40, left 14:33:20
    for timer in (f"35{seconds}", f"12{minutes}30{seconds}", f"31{minutes}15{seconds}"):
        assert timer in one, timer
    text = flat(layout(data, tmp_path))
    header = ("时长" if lang == "zh" else "Duration") + f"31{minutes}15{seconds}"
    assert header in text and f"35{minutes}" not in text  # the tablet's 35 minutes are not shown
    assert ("14:21" in one) and "工号0217" in one  # the red line's time and staff


FLAGGED = ("svc_greeting_10s", "img_signage_clean")  # a gap and a strength of the audit


@pytest.mark.parametrize("lang", LANGS)
def test_flagged_items_come_first_in_the_findings(app, client, world, tmp_path, lang):
    """Items the collector marked "needs attention" open the findings, in both languages,
    whatever their result; the detail table marks them too."""
    with app.app_context():
        for response in db.session.scalars(db.select(Response).filter_by(visit_id=world["audit"])):
            response.flagged = response.item_id in FLAGGED
        db.session.commit()
    text = flat(layout(report(client, world, world["audit"], lang), tmp_path))
    heading = "需关注·现场标记" if lang == "zh" else "Needsattention·markedduringthevisit"
    strengths = "做得好的地方" if lang == "zh" else "Whatwentwell"
    assert text.count(heading) == 1
    block = text[text.index(heading):text.index(strengths)]
    for wording in item_texts("storefront-audit", lang, app, lambda i: i.id in FLAGGED):
        assert flat(wording)[:24] in block, wording
    assert ("刘洋0225" in block) and ("未达标" if lang == "zh" else "Notmet") in block
    other = item_texts("storefront-audit", lang, app, lambda i: i.id == "img_uniform_badge")[0]
    assert flat(other)[:24] not in block
    mark = "需关注" if lang == "zh" else "Needsattention"
    details = text[text.index("逐项明细" if lang == "zh" else "Everysectionindetail"):]
    assert details.count(mark) == len(FLAGGED)


def test_a_visit_without_flags_has_no_attention_block(client, world, tmp_path):
    text = flat(layout(report(client, world, world["audit"], "zh"), tmp_path))
    assert "需关注" not in text


def test_an_answer_that_contradicts_its_timer_shows_both(app, client, world, tmp_path):
    with app.app_context():
        db.session.scalars(db.select(Response).filter_by(
            visit_id=world["mystery"], item_id="wai_minutes")).one().value = 15
        db.session.commit()
    text = flat(layout(report(client, world, world["mystery"], "en"), tmp_path))
    assert "12min30s(timed)·recordedas15minutes;thetimercounts" in text


@pytest.mark.parametrize("lang", LANGS)
def test_store_version_has_no_guidance_and_no_shopper_name(app, client, world, tmp_path, lang):
    for visit, slug in ((world["mystery"], "mystery-visit"), (world["audit"], "storefront-audit")):
        text = flat(layout(report(client, world, visit, lang), tmp_path))
        for item, guidance in texts(slug, lang, "guidance", app).items():
            assert flat(guidance) not in text, (item, guidance)
        assert SHOPPER_NAME not in text and "shopper@example.com" not in text
    internal = flat(layout(report(client, world, world["audit"], "zh", "internal"), tmp_path))
    assert "神秘顾客" not in internal and "暗访员" not in internal and "督导" in internal


@pytest.mark.parametrize("lang", LANGS)
def test_an_unreviewed_visit_is_marked_on_every_page(app, client, world, tmp_path, lang):
    with app.app_context():
        visit_id = featured_mystery(app, world["store_ids"][2], world["users"]["shopper"],
                                    local_today(), None)
        db.session.get(Visit, visit_id).status = "submitted"
        db.session.commit()
    mark = "待复核" if lang == "zh" else "Awaitingreview"
    for audience in ("store", "internal"):
        every = pages(report(client, world, visit_id, lang, audience), tmp_path)
        assert len(every) > 2 and all(mark in page for page in every)
    published = pages(report(client, world, world["mystery"], lang), tmp_path)
    assert not any(mark in page for page in published)


def test_comparison_with_the_previous_visit_and_the_region(app, client, world, tmp_path):
    with app.app_context():
        audit = db.session.get(Visit, world["audit"])
        audits = db.session.scalars(db.select(Visit).filter_by(
            kind="audit", status="published")).all()
        earlier = [v for v in audits if v.id != audit.id
                   and v.started_at >= audit.started_at - timedelta(days=90)]
        previous = max((v for v in earlier if v.store_id == audit.store_id),
                       key=lambda v: v.started_at)
        region = sum(v.total for v in earlier) / len(earlier)
        expected = (audit.total - previous.total, audit.total - region, len(earlier))
    text = layout(report(client, world, world["audit"], "en"), tmp_path)
    row = next(line.split()[2:] for line in text.splitlines()
               if re.match(r"\s*Total score(\s+[-+±]?[\d.]+){6}\s*$", line))
    # this visit | last time | Δ | region | n | Δ
    assert float(row[0]) == audit.total and float(row[1]) == previous.total
    assert float(row[2]) == pytest.approx(expected[0], abs=0.06)
    assert float(row[3]) == pytest.approx(region, abs=0.06) and int(row[4]) == expected[2]
    assert float(row[5]) == pytest.approx(expected[1], abs=0.06)
    functions = [line for line in text.splitlines() if line.strip().startswith(
        ("Sales", "Company image", "Quality service", "Transactions", "Consultation",
         "Information collection")) and re.search(r"\d+\s*$", line)]
    assert len(functions) >= 6
    mystery = flat(layout(report(client, world, world["mystery"], "en"), tmp_path))
    assert "Nothingtocomparewith" in mystery and "(n=0)" in mystery  # audits are not mixed in


def local_today():
    from datetime import datetime

    from tests.report_data import SHANGHAI
    return datetime.now(SHANGHAI).date()


def printed_widths_mm(data: bytes, tmp_path: Path) -> list[float]:
    """The printed width of every placed image (pdfimages -list gives pixels and ppi)."""
    path = tmp_path / "images.pdf"
    path.write_bytes(data)
    rows = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[2:]
    return [int(r.split()[3]) / int(r.split()[12]) * 25.4 for r in rows]


def save_pages(data: bytes, name: str) -> list[Path]:
    """Every page as a picture under test-output/reports, for a person to look at."""
    PAGES.mkdir(parents=True, exist_ok=True)
    source = PAGES / f"{name}.pdf"
    source.write_bytes(data)
    for old in PAGES.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(source), str(PAGES / name)], check=True)
    return sorted(PAGES.glob(f"{name}-*.png"))


def test_photos_are_readable_and_every_kind_has_page_pictures(app, client, load_checklists,
                                                              tmp_path, database_url):
    """With photos: each placed photo prints 60–80 mm wide, captioned with its time; the
    internal and unreviewed versions are pictured in both languages (test_reports.py pictures
    the store versions)."""
    load_checklists()
    with app.app_context():
        world = build_region(app, history=1)
        unreviewed = featured_mystery(app, world["store_ids"][1], world["users"]["shopper"],
                                      local_today(), (1800, 1350))
        db.session.get(Visit, unreviewed).status = "submitted"
        db.session.commit()
    for lang in LANGS:
        kinds = {"audit-internal": (world["audit"], "internal"),
                 "mystery-internal": (world["mystery"], "internal"),
                 "unreviewed": (unreviewed, "store")}
        for name, (visit_id, audience) in kinds.items():
            data = report(client, world, visit_id, lang, audience)
            widths = printed_widths_mm(data, tmp_path)
            assert widths and all(59.5 <= w <= 80.5 for w in widths), widths
            assert len(data) < 3 * 1024 * 1024
            if database_url.startswith("sqlite"):
                assert save_pages(data, f"visit-{name}-{lang}")
        text = flat(layout(report(client, world, world["mystery"], lang), tmp_path))
        assert ("照片1·14:" if lang == "zh" else "Photo1·14:") in text  # its capture time


REJECTED = "照片里流动岗仍在整理宣传单，没有迎候顾客，请高峰时段再拍一次。"
DISMISSED = "取号机由省公司统一配置，门店无法增设；改为流动岗引导取号。"
FIX_NOTE = "已撤下全部过期海报，台卡有效期登记在值班本上。"
COMMENT = "同意以上行动；海报本周内全部核对完毕。"


def agree_the_plan(app, world) -> None:
    """The featured audit's plan as the store and the supervisor left it: the posters agreed
    (owner 王丽 from the roster, with its question), the greeting fix sent back, a fix done with
    two photos, a proposal dismissed with its reason."""
    with app.app_context():
        actions = {a.item_id: a for a in db.session.scalars(
            db.select(Action).filter_by(visit_id=world["audit"]))}
        rejected = actions["svc_greeting_10s"]
        rejected.status, rejected.decision_comment = "reopened", REJECTED
        done = Action(store_id=rejected.store_id, visit_id=world["audit"], item_id="img_hall_clean",
                      title="大厅地面和台面每两小时巡查一次", status="done", owner="张敏",
                      owner_staff_id=_staff_id("张敏"), due_date=rejected.due_date,
                      agreed_at=rejected.agreed_at, done_note=FIX_NOTE,
                      done_at=rejected.agreed_at + timedelta(days=1))
        dismissed = Action(store_id=rejected.store_id, visit_id=world["audit"],
                           item_id="svc_guide_queue", title="高峰时段增设一台自助取号机",
                           status="dismissed", dismiss_reason=DISMISSED)
        db.session.add_all([done, dismissed])
        db.session.flush()
        for n in range(2):
            db.session.add(ActionEvidence(
                id=uuid.uuid4(), action_id=done.id, status="processed", content_hash=f"{n}" * 64,
                content_type="image/jpeg", uploaded_by_id=world["users"]["supervisor"]))
        db.session.commit()


def _staff_id(name: str) -> int:
    from supervision.stores.models import Staff

    return db.session.scalars(db.select(Staff.id).filter_by(name=name)).first()


def sign_off(client, headers: dict, visit_id, body: dict):
    answer = client.post(f"/api/v1/visits/{visit_id}/signoff", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.json


def signed_at(app, visit_id, minutes: int) -> str:
    """`minutes` after the visit started, as a device sends it (UTC)."""
    with app.app_context():
        started = db.session.get(Visit, visit_id).started_at
    return (started + timedelta(minutes=minutes)).astimezone(UTC).isoformat()


def shanghai_minute(iso: str) -> str:
    from datetime import datetime

    from tests.report_data import SHANGHAI
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("lang", LANGS)
def test_a_signed_audit_prints_the_signature_and_the_agreed_plan(app, client, world, tmp_path,
                                                                 lang, database_url):
    agree_the_plan(app, world)
    when = signed_at(app, world["audit"], 50)
    signature = "data:image/png;base64," + base64.b64encode(signature_png(3)).decode()
    supervisor = {"Authorization": f"Bearer {world['tokens']['supervisor']}"}
    sign_off(client, supervisor, world["audit"],
             {"name": "王丽", "signature": signature, "comment": COMMENT, "signed_at": when})
    t = translator(lang)
    data = report(client, world, world["audit"], lang)
    text = layout(data, tmp_path)
    every = "".join(pages(data, tmp_path))  # cell by cell (the layout text mixes columns)
    ack = every[every.index(flat(t("ack_title"))):]
    assert flat(t("ack_signed")) in ack and flat(t("ack_text")) not in ack
    assert flat(f"{t('signed_by')}{t('store_manager')}王丽") in ack
    assert flat(f"{t('signed_at')}{shanghai_minute(when)}") in ack  # the store's time
    assert flat(COMMENT) in ack and flat(t("date")) not in ack  # no blank date line
    images = printed_images(data, tmp_path)
    assert [(i["width"], i["height"]) for i in images if i["type"] == "image"] == [(600, 200)]

    plan = text[text.index(t("plan")):text.index(t("earlier_actions"))]
    rows = every[every.index(flat(t("plan"))):every.index(flat(t("earlier_actions")))]
    assert flat(f"王丽{t('badge_no', badge='0201')}·厅主任") in rows  # the owner from the roster
    assert flat(f"{t('question')}哪些海报和台卡有有效期？谁在什么时候核对？") in rows
    reopened = plan[plan.index("流动岗 10 秒问候演练"):]
    assert t("status_reopened") in reopened.splitlines()[0]
    assert flat(f"{t('reject_reason')}{REJECTED}") in rows
    assert flat(f"{t('fix_note')}{FIX_NOTE}") in rows and flat(t("fix_photos", n=2)) in rows
    dismissed = plan[plan.index("高峰时段增设一台自助取号机"):]
    assert t("status_dismissed") in dismissed.splitlines()[0]
    assert flat(f"{t('dismiss_reason')}{DISMISSED}") in rows
    assert rows.index("高峰时段增设一台自助取号机") > rows.index("大厅地面和台面")  # dismissed last
    if database_url.startswith("sqlite"):
        assert save_pages(data, f"visit-signed-{lang}")

    preview = client.get(f"/api/v1/visits/{world['audit']}/report.html?lang={lang}",
                         headers={"Authorization": f"Bearer {world['tokens']['manager']}"})
    source = f"/api/v1/visits/{world['audit']}/signoff/signature"
    assert f'src="{source}"' in preview.get_data(as_text=True)
    with client.get(source, headers={"Authorization": f"Bearer {world['tokens']['manager']}"}) \
            as png:
        assert png.status_code == 200 and png.mimetype == "image/png"


def test_an_acknowledgement_in_the_app_and_an_unsigned_visit(app, client, world, tmp_path):
    """A mystery visit the store manager acknowledged in their app says so, with no signature;
    a visit nobody signed keeps the two blank signature lines."""
    store = SimpleNamespace(id=world["store_ids"][0])
    manager = create_user(app, "store_manager", stores=[store], name="王丽")
    when = signed_at(app, world["mystery"], 26 * 60)
    sign_off(client, bearer(app, manager), world["mystery"],
             {"name": "王丽", "signed_at": when, "comment": None})
    t = translator("en")
    text = "".join(pages(report(client, world, world["mystery"], "en"), tmp_path))
    ack = text[text.index(flat(t("ack_title"))):]
    assert flat(t("ack_in_app")) in ack and flat(t("acknowledged_in_app")) in ack
    assert flat(f"{t('acknowledged_by')}{t('store_manager')}王丽") in ack
    assert flat(f"{t('acknowledged_at')}{shanghai_minute(when)}") in ack
    assert SHOPPER_NAME not in text
    unsigned = layout(report(client, world, world["audit"], "zh"), tmp_path)
    ack = unsigned[unsigned.index("确认签字"):]
    assert flat(translator("zh")("ack_text")) in flat(ack)
    assert ack.count("签名") == 2 and ack.count("日期") == 2  # two blank lines for each person


def printed_images(data: bytes, tmp_path: Path) -> list[dict]:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    rows = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[2:]
    return [{"type": r.split()[2], "width": int(r.split()[3]), "height": int(r.split()[4])}
            for r in rows]


@pytest.mark.parametrize("lang", LANGS)
def test_changes_after_submission_show_in_the_internal_version_only(app, client, world, tmp_path,
                                                                     database_url, lang):
    """A resubmission (a note, photos, a moment and the visit notes changed) is listed in the
    internal version's change record and marks its item; the store version shows nothing of
    it (it lists only the answers corrected on the store's queries)."""
    from supervision.visits.changes import record_change

    reason = "请补拍取号机照片 / add a photo of the ticket machine"
    with app.app_context():
        visit = db.session.get(Visit, world["mystery"])
        definition = definition_of(visit.checklist_version)
        answered = {r.item_id for r in visit.responses}
        item = min((item for _, item in definition.items() if item.id in answered),
                   key=lambda item: len((item.report_text or item.text).get("en")))
        moment = definition.moments[0]
        record_change(visit, "resubmission", visit.author, [
            {"item": item.id, "field": "note", "old": None, "new": "补充说明"},
            {"item": "photo", "field": item.id, "old": [], "new": [str(uuid.uuid4())] * 2},
            {"item": "moment", "field": moment.id, "old": "2025-03-02T14:00:05+08:00",
             "new": "2025-03-02T14:01:35+08:00"},
            {"item": "notes", "field": "notes", "old": None, "new": "门口有保安。"}],
            visit.total, reason=reason)
        db.session.commit()
        item_text, moment_title = (item.report_text or item.text).get(lang), moment.title.get(lang)
    zh = lang == "zh"
    data = report(client, world, world["mystery"], lang, "internal")
    if database_url.startswith("sqlite"):
        assert save_pages(data, f"visit-changes-internal-{lang}")
    internal = flat(layout(data, tmp_path))
    for expected in ("修改记录" if zh else "Changerecord",
                     "退回后重新提交" if zh else "Resubmittedafterreturn",
                     flat(reason), SHOPPER_NAME, flat(item_text),
                     "照片0→2张" if zh else "photos0→2", "备注已更改" if zh else "notechanged",
                     flat(moment_title), "14:00:05→14:01:35",
                     "访问备注" if zh else "Visitnotes"):
        assert expected in internal, expected
    assert ("已修改" if zh else "Modified") in internal  # the item's mark
    store = flat(layout(report(client, world, world["mystery"], lang), tmp_path))
    for hidden in ("修改记录" if zh else "Changerecord", "申诉后更正" if zh else "Correctedafter",
                   "已修改" if zh else "Modified", flat(reason)):
        assert hidden not in store, hidden
