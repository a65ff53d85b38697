"""Store and region reports: an average never mixes checklists and always shows its n, a store
with few visits is not ranked first, a proposal is never overdue, an empty region says so once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from supervision.db import db
from supervision.followup.models import Action
from supervision.visits.models import Visit
from tests.test_reports import normalise, pdf_text, save_pages

NOW = datetime.now(UTC)


@pytest.fixture
def world(make_world, load_checklists):
    load_checklists()
    return make_world(stores={"a": {"region": "east", "code": "A1", "name": "甲营业厅"},
                              "b": {"region": "east", "code": "B1", "name": "乙营业厅"}})


def _visit(make_visit, world, store, slug, days_ago, answers=None):
    author = world["shopper"] if slug == "mystery-visit" else world["supervisor"]
    return make_visit(world[store], author, slug, answers=answers,
                      started_at=NOW - timedelta(days=days_ago, hours=1))


def _totals(app, visit_ids) -> list[float]:
    with app.app_context():
        return [db.session.get(Visit, v).total for v in visit_ids]


def _report(client, world, path, lang, tmp_path, name) -> str:
    return normalise(_layout(client, world, path, lang, tmp_path, name))


def _layout(client, world, path, lang, tmp_path, name) -> str:
    """The report's text as pdftotext lays it out (a table row on one line)."""
    url = f"/api/v1/{path}/report.pdf?lang={lang}"
    answer = client.get(url, headers=world["headers"]["manager"])
    if answer.status_code == 202:  # a region: rendered by a job (inline here), then the PDF
        assert answer.json["status"] == "done", answer.json
        answer = client.get(url, headers=world["headers"]["manager"])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    save_pages(answer.data, name, pages=4)
    return pdf_text(answer.data, tmp_path, name)


def has(text: str, wanted: str) -> bool:
    return normalise(wanted) in text


def _average(values) -> str:
    """As the report writes it: one decimal, and never 100 when a visit lost a point."""
    mean = round(sum(values) / len(values), 1)
    text = f"{min(mean, 99.9) if min(values) < 100 else mean:.1f}"
    return text.rstrip("0").rstrip(".")


def test_store_averages_are_per_checklist_with_their_n(app, client, world, make_visit,
                                                       tmp_path):
    audits = [_visit(make_visit, world, "a", "storefront-audit", d,
                     {"svc_greeting_10s": d > 10}) for d in (3, 20)]
    mysteries = [_visit(make_visit, world, "a", "mystery-visit", d,
                        {"scenario_dispute": False, "arr_greeted_10s": False}) for d in (5, 9, 30)]
    text = _report(client, world, f"stores/{world['a'].id}", "en", tmp_path, "period-store-en")
    audit_avg, mystery_avg = _average(_totals(app, audits)), _average(_totals(app, mysteries))
    assert has(text, f"{audit_avg} Average · n = 2") and has(text, f"{mystery_avg} Average · n = 3")
    pooled = _average(_totals(app, audits) + _totals(app, mysteries))
    if pooled not in (audit_avg, mystery_avg):
        assert not has(text, f"{pooled} Average")  # no average of the two checklists together
    assert has(text, "· 2 visits") and has(text, "· 3 visits")
    assert has(text, "few visits")  # n = 2 is marked
    _report(client, world, f"stores/{world['a'].id}", "zh", tmp_path, "period-store-zh")


def test_a_store_with_few_visits_is_not_ranked_first(app, client, world, make_visit, tmp_path):
    _visit(make_visit, world, "a", "storefront-audit", 2)  # one perfect visit
    for days in (4, 8, 12):
        _visit(make_visit, world, "b", "storefront-audit", days, {"svc_greeting_10s": False})
    text = _report(client, world, f"regions/{world['a'].region_id}", "en", tmp_path,
                   "period-region-en")
    ranking = text[text.index("Storeranking"):]
    assert ranking.index(normalise(f"1 {world['b'].name}")) < ranking.index(world["a"].name)
    assert normalise(f"1 {world['a'].name}") not in ranking
    assert has(ranking, "few visits") and has(text, "not ranked")
    _report(client, world, f"regions/{world['a'].region_id}", "zh", tmp_path,
            "period-region-zh")


def test_a_proposal_past_its_due_date_is_never_counted_overdue(app, client, world, make_visit,
                                                             tmp_path):
    visit_id = _visit(make_visit, world, "a", "storefront-audit", 20)
    with app.app_context():
        db.session.add(Action(store_id=world["a"].id, visit_id=visit_id, status="proposed",
                              title="确保员工 10 秒内问候",
                              due_date=date.today() - timedelta(days=9)))
        db.session.commit()
    store = _report(client, world, f"stores/{world['a'].id}", "en", tmp_path, "proposal-store")
    assert has(store, "Open 0 · Overdue 0 · To approve 0")
    assert has(store, "Agreed 0 · Verified 0 · Closure rate – · Median days to close – days")
    assert has(store, "No action open.")
    proposals = store[store.index(normalise("Proposals to confirm Made from")):]
    assert has(proposals, "确保员工 10 秒内问候")
    region = _report(client, world, f"regions/{world['a'].region_id}", "en", tmp_path,
                     "proposal-region")
    assert has(region, "No overdue action.")

    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        action.status, action.owner = "agreed", "王丽"
        db.session.commit()
    store = _report(client, world, f"stores/{world['a'].id}", "en", tmp_path, "agreed-store")
    assert has(store, "Open 0 · Overdue 1 · To approve 0")
    region = _report(client, world, f"regions/{world['a'].region_id}", "en", tmp_path,
                     "agreed-region")
    assert not has(region, "No overdue action.") and has(region, "确保员工 10 秒内问候")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_region_without_visits_says_so_once(client, world, lang, tmp_path):
    text = _report(client, world, f"regions/{world['a'].region_id}", lang, tmp_path,
                   f"period-empty-region-{lang}")
    line = ("No published visit in this period" if lang == "en" else "本期没有已发布的到访")
    assert text.count(normalise(line)) == 1
    for heading in (("Store ranking", "Weakest items", "Stores with red lines")
                    if lang == "en" else ("门店排名", "最薄弱的检查项", "触碰红线的门店")):
        assert normalise(heading) not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_store_without_visits_says_so_once(client, world, lang, tmp_path):
    text = _report(client, world, f"stores/{world['a'].id}", lang, tmp_path,
                   f"period-empty-store-{lang}")
    line = "No published visit in this period" if lang == "en" else "本期没有已发布的到访"
    assert text.count(normalise(line)) == 1
    for heading in (("Corrective actions", "Disputes", "Compared with the region", "Average")
                    if lang == "en" else ("改进行动", "争议处理", "与区域平均比较", "平均分")):
        assert normalise(heading) not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_proposal_titles_and_red_lines_read_in_the_report_language(app, client, world,
                                                                     make_visit, lang, tmp_path):
    visit_id = _visit(make_visit, world, "a", "mystery-visit", 4, {"dis_red_argue_blame": True})
    with app.app_context():
        db.session.add(Action(
            store_id=world["a"].id, visit_id=visit_id, status="proposed",
            title="整改：员工争吵 / Fix: staff quarrel", due_date=date.today() + timedelta(days=1),
            texts={"title": {"zh": "整改：争议时先安抚顾客",
                             "en": "Fix: calm the customer first"}}))
        db.session.commit()
    store = _report(client, world, f"stores/{world['a'].id}", lang, tmp_path,
                    f"language-store-{lang}")
    region = _report(client, world, f"regions/{world['a'].region_id}", lang, tmp_path,
                     f"language-region-{lang}")
    title = "Fix: calm the customer first" if lang == "en" else "整改：争议时先安抚顾客"
    other = "整改" if lang == "en" else "Fix:"
    assert has(store, title) and other not in store
    # The store reads the red line about the customer, not the shopper's "you" (你).
    red = ("quarrelled with or blamed the customer" if lang == "en" else "员工与顾客争吵、指责顾客")
    for text in (store, region):
        assert has(text, red)
        assert not has(text, "quarrelled with you") and not has(text, "员工与你争吵")


def _agreed(store, agreed_days_ago, status="agreed", verified_days_ago=None, due_in=5,
            visit_id=None):
    """An action agreed `agreed_days_ago` days ago, verified `verified_days_ago` days ago."""
    return Action(store_id=store.id, visit_id=visit_id, title=f"行动 {agreed_days_ago}",
                  status=status, due_date=date.today() + timedelta(days=due_in),
                  agreed_at=NOW - timedelta(days=agreed_days_ago) if agreed_days_ago else None,
                  verified_at=NOW - timedelta(days=verified_days_ago)
                  if verified_days_ago is not None else None)


def test_closure_rate_and_median_days_to_close_by_hand(app, client, world, make_visit,
                                                       tmp_path):
    """Among the actions agreed in the period (dismissed left out): closure rate = verified ÷
    agreed, median days to close = median(verified − agreed) of the verified ones."""
    _visit(make_visit, world, "a", "storefront-audit", 3)
    _visit(make_visit, world, "b", "storefront-audit", 4)
    under_review = _visit(make_visit, world, "a", "mystery-visit", 2)
    with app.app_context():
        db.session.get(Visit, under_review).status = "submitted"
        a, b = world["a"], world["b"]
        db.session.add_all([
            _agreed(a, 10, "verified", 8),     # 2 days
            _agreed(a, 20, "verified", 15),    # 5 days
            _agreed(a, 6, "verified", 5.5),    # 0.5 days
            _agreed(a, 4),                     # pending
            _agreed(a, 3, "done"),             # shown fixed, not yet approved
            _agreed(a, 12, "reopened", due_in=-2),  # sent back, overdue
            _agreed(a, None, "dismissed"),     # not taken up: left out
            _agreed(a, None, "proposed"),      # not agreed: left out
            _agreed(a, 120, "verified", 100),  # agreed before the period: left out
            _agreed(a, 2, visit_id=under_review),  # its visit is still under review: left out
            _agreed(b, 30, "verified", 26),    # 4 days
            _agreed(b, 9, "verified", 8),      # 1 day
            _agreed(b, 1),                     # pending
        ])
        db.session.commit()
    # A: 6 agreed, 3 verified → 50 %, median(2, 5, 0.5) = 2; B: 3 agreed, 2 verified → 67 %,
    # median(4, 1) = 2.5; the region: 9 agreed, 5 verified → 56 %, median(0.5, 1, 2, 4, 5) = 2.
    layout = _layout(client, world, f"stores/{world['a'].id}", "en", tmp_path, "closure-store-en")
    store = normalise(layout)
    kpis = [line.split() for line in layout.splitlines()]
    assert ["1", "0", "1", "50%", "2"] in kpis  # visits, red lines, overdue, closure, median
    assert has(store, "Closure rate · n = 6")
    assert has(store, "Agreed 6 · Verified 3 · Closure rate 50% · Median days to close 2 days "
                      "(n = 3)")
    assert has(store, "Open 1 · Overdue 1 · To approve 1")
    assert has(store, "Closure rate = of the actions agreed in the period")
    zh = _report(client, world, f"stores/{world['b'].id}", "zh", tmp_path, "closure-store-zh")
    assert has(zh, "本期商定 3 · 已验收 2 · 闭环率 67% · 闭环天数中位数 2.5 天 (n = 2)")
    assert has(zh, "闭环率 = 本期商定的行动")
    region = _layout(client, world, f"regions/{world['a'].region_id}", "en", tmp_path,
                     "closure-region-en")
    rows = [line.split() for line in region.splitlines()]
    assert ["Whole", "region", "9", "5", "56%", "2", "1"] in rows
    assert [world["a"].name, "6", "3", "50%", "2", "1"] in rows
    assert [world["b"].name, "3", "2", "67%", "2.5", "0"] in rows
    assert ["2", "2/2", "0", "1", "56%", "0"] in rows  # the closure rate on page one
    _report(client, world, f"regions/{world['a'].region_id}", "zh", tmp_path,
            "closure-region-zh")
