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
    url = f"/api/v1/{path}/report.pdf?lang={lang}"
    answer = client.get(url, headers=world["headers"]["manager"])
    if answer.status_code == 202:  # a region: rendered by a job (inline here), then the PDF
        assert answer.json["status"] == "done", answer.json
        answer = client.get(url, headers=world["headers"]["manager"])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    save_pages(answer.data, name, pages=4)
    return normalise(pdf_text(answer.data, tmp_path, name))


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
    assert has(store, "Open 0 · Overdue 0 · Closed 0 · To confirm 1")
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
    assert has(store, "Open 0 · Overdue 1 · Closed 0 · To confirm 0")
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
