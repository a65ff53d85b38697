"""Scoring: hand-computed visits for every rule, and properties over the shipped checklists."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.checklists.definition import ChecklistDefinition, Item, applies
from supervision.checklists.loader import load_checklist
from supervision.scoring import (
    EMPTY_TOTAL,
    LOST_CEILING,
    MUST_BE_FACTOR,
    PEAK_END_FACTOR,
    RULES,
    Answer,
    heatmap,
    item_fraction,
    score_visit,
    subtotal_of,
)

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
slug: example
title: {zh: 示例, en: Example}
kind: audit
sections:
"""


def _checklist(sections: str) -> ChecklistDefinition:
    return load_checklist(HEADER + sections)


def _yes_no(item_id: str, kano: str = "performance", moment: str = "arrival", extra: str = ""):
    return (f"      - {{id: {item_id}, type: yes_no, kano: {kano}, moment: {moment}, "
            f"text: {{zh: 条目{item_id}, en: Item {item_id}}}{extra}}}\n")


def _section(section_id: str, *items: str, function: str = "service", extra: str = "") -> str:
    head = (f"  - id: {section_id}\n    function: {function}\n"
            f"    title: {{zh: 部分, en: Section}}\n{extra}    items:\n")
    return head + "".join(items)


def _answers(**values) -> dict[str, Answer]:
    return {key: value if isinstance(value, Answer) else Answer(value)
            for key, value in values.items()}


def _total(definition: ChecklistDefinition, **values) -> float:
    return score_visit(definition, _answers(**values)).total


THREE = _checklist(_section(
    "service", _yes_no("a"), _yes_no("b"), _yes_no("c", extra=", allow_na: true")))


def test_na_leaves_the_denominator():
    # a 1 + b 0 of 3 possible = 33.3; with c N/A: 1 of 2 = 50.0
    assert _total(THREE, a=True, b=False, c=False) == 33.3
    assert _total(THREE, a=True, b=False, c=Answer(na=True)) == 50.0


MUST_AND_PERFORMANCE = _checklist(_section(
    "image", _yes_no("signage", kano="must_be"), _yes_no("display"), function="image"))


@pytest.mark.parametrize(("signage", "display", "total"), [
    (True, True, 100.0),
    # must-be missed: earned 0 + 1, possible 1 × 1.5 + 1 = 2.5 → 1 / 2.5 = 40.0
    (False, True, 40.0),
    # performance missed: earned 1.5 + 0 of 2.5 → 60.0 — the must-be costs more
    (True, False, 60.0),
])
def test_a_missing_must_be_costs_more_than_a_missing_performance_item(signage, display, total):
    assert MUST_BE_FACTOR == 1.5
    assert _total(MUST_AND_PERFORMANCE, signage=signage, display=display) == total


def test_must_be_earns_only_when_fully_met():
    definition = _checklist(_section("service", (
        "      - {id: smile, type: scale, kano: must_be, moment: arrival,"
        " text: {zh: 微笑, en: Smile}}\n"), _yes_no("thanks")))
    # smile 4 of 5 is fraction 0.75, but a must-be earns 0 of 1.5; thanks 1 of 1 → 1 / 2.5
    result = score_visit(definition, _answers(smile=4, thanks=True))
    assert result.total == 40.0
    smile = result.items[0]
    assert (smile.fraction, smile.earned, smile.possible, smile.status) == (0.75, 0, 1.5, "failed")


DELIGHT = _checklist(_section(
    "service", _yes_no("greet"), _yes_no("thanks"), _yes_no("umbrella", kano="delighter")))


@pytest.mark.parametrize(("answers", "total"), [
    ({"greet": True, "thanks": False}, 50.0),                      # 1 of 2
    ({"greet": True, "thanks": False, "umbrella": False}, 50.0),   # absence costs nothing
    ({"greet": True, "thanks": False, "umbrella": True}, 99.9),    # 50 + 50, but thanks failed
    ({"greet": False, "thanks": False, "umbrella": True}, 50.0),   # 0 + 50
    ({"greet": True, "thanks": True, "umbrella": True}, 100.0),    # 100 + 50, capped at 100
])
def test_delighters_only_add(answers, total):
    assert _total(DELIGHT, **answers) == total


def test_a_bonus_never_hides_a_failure():
    assert LOST_CEILING == 99.9 and RULES["lost_ceiling"] == LOST_CEILING
    result = score_visit(DELIGHT, _answers(greet=True, thanks=False, umbrella=True))
    # base 100 × 1 / 2 = 50, bonus 100 × 1 / 2 = 50: 100 would hide the failed thanks
    assert result.total == 99.9 and result.grade.id == "excellent"
    service = result.sections["service"]
    assert (service.earned, service.bonus, service.max, service.percent) == (1.0, 1.0, 2.0, 50.0)
    assert service.to_dict() == {"score": 1.0, "earned": 1.0, "max": 2.0, "bonus": 1.0,
                                 "percent": 50.0}
    assert heatmap(result) == {("service", "arrival"): 50.0}
    explanation = result.to_dict()["explanation"]
    assert (explanation["base"], explanation["bonus_points"], explanation["ceiling"]) == (
        50.0, 50.0, 99.9)


def test_a_tiny_loss_never_rounds_to_100():
    definition = _checklist(_section("service", (
        "      - {id: closed, type: number, kano: performance, moment: waiting,"
        " thresholds: {good: 1000, fail: 0, better: higher}, text: {zh: 办结, en: Closed}}\n")))
    # 999.6 of 1000 → 99.96, which rounds half up to 100.0: the ceiling keeps it at 99.9
    result = score_visit(definition, _answers(closed=999.6))
    assert result.total == 99.9 and result.sections["service"].percent == 99.9
    assert _total(definition, closed=1000) == 100.0


@pytest.mark.parametrize(("answers", "statuses"), [
    ({"greet": True, "thanks": True, "umbrella": False}, ["met", "met", "no_bonus"]),
    ({"greet": True, "thanks": False, "umbrella": True}, ["met", "failed", "met"]),
])
def test_a_delighter_not_delivered_is_no_bonus_not_a_failure(answers, statuses):
    result = score_visit(DELIGHT, _answers(**answers))
    assert [s.status for s in result.items] == statuses
    assert result.items[2].possible == 0


def test_a_partly_delivered_delighter_is_partial():
    definition = _checklist(_section("service", _yes_no("greet"), (
        "      - {id: care, type: scale, kano: delighter, moment: arrival,"
        " text: {zh: 关怀, en: Care}}\n")))
    result = score_visit(definition, _answers(greet=True, care=3))
    care = result.items[1]
    assert (care.status, care.bonus, care.possible) == ("partial", 0.5, 0.0)
    assert score_visit(definition, _answers(greet=True, care=1)).items[1].status == "no_bonus"


def test_a_bonus_without_anything_owed_changes_nothing():
    definition = _checklist(_section("extras", _yes_no("umbrella", kano="delighter")))
    result = score_visit(definition, _answers(umbrella=True))
    assert result.total == EMPTY_TOTAL and result.sections["extras"].percent is None
    explanation = result.to_dict()["explanation"]
    assert (explanation["base"], explanation["bonus_points"]) == (None, None)


def test_stored_item_rows_give_the_same_subtotals():
    """Reports regroup score["items"] (stored scores too) and get the engine's figures."""
    result = score_visit(RED_LINE, _answers(greet=True, argue=False, signage=False))
    rows = result.to_dict()["items"]
    for section, subtotal in result.sections.items():
        assert subtotal_of(r for r in rows if r["section"] == section) == subtotal
    assert subtotal_of(rows).total == result.total
    crossed = score_visit(RED_LINE, _answers(greet=True, argue=True, signage=True))
    assert subtotal_of(crossed.to_dict()["items"]).percent == 0.0


RED_LINE = _checklist(
    _section("service", _yes_no("greet"),
             _yes_no("argue", kano="must_be", moment="dispute",
                     extra=", red_line: true, inverse: true")) +
    _section("image", _yes_no("signage", kano="must_be"), function="image"))


def test_a_failed_red_line_zeroes_the_total_and_its_section():
    result = score_visit(RED_LINE, _answers(greet=True, argue=True, signage=True))
    assert result.total == 0.0
    assert result.grade.id == "fail"
    assert [(r.item, r.section, r.text.en) for r in result.red_lines] == [
        ("argue", "service", "Item argue")]
    assert result.sections["service"].score == 0 and result.sections["service"].percent == 0.0
    assert result.sections["image"].percent == 100.0
    assert result.moments["dispute"].percent == 0.0 and result.moments["arrival"].percent == 100.0


def test_a_red_line_not_crossed_scores_as_a_met_must_be():
    # greet 1 + argue (inverse, did not happen) 1 × 1.5 × 1.5 peak-end + signage 1.5, all met
    result = score_visit(RED_LINE, _answers(greet=True, argue=False, signage=True))
    assert result.total == 100.0 and result.red_lines == ()
    assert result.items[1].possible == 2.25


PEAK_END = _checklist(_section(
    "service", _yes_no("greet", moment="arrival"), _yes_no("thanks", moment="departure")))


@pytest.mark.parametrize(("greet", "thanks", "total"), [
    (True, False, 40.0),   # 1 of 1 + 1.5 = 2.5
    (False, True, 60.0),   # 1.5 of 2.5: the end weighs more than the start
])
def test_peak_end_moments_weigh_more(greet, thanks, total):
    assert PEAK_END_FACTOR == 1.5
    assert _total(PEAK_END, greet=greet, thanks=thanks) == total


NUMBERS = _checklist(_section("service", (
    "      - {id: wait, type: number, kano: performance, moment: waiting,"
    " thresholds: {good: 10, fail: 20, better: lower}, text: {zh: 等候, en: Wait}}\n"
    "      - {id: closed, type: number, kano: performance, moment: dispute,"
    " thresholds: {good: 100, fail: 80, better: higher}, text: {zh: 办结率, en: Closed}}\n")))


@pytest.mark.parametrize(("item", "value", "fraction"), [
    ("wait", 0, 1.0), ("wait", 10, 1.0), ("wait", 15, 0.5), ("wait", 17.5, 0.25),
    ("wait", 20, 0.0), ("wait", 45, 0.0),
    ("closed", 100, 1.0), ("closed", 90, 0.5), ("closed", 80, 0.0), ("closed", 50, 0.0),
])
def test_number_thresholds_are_linear_between_good_and_fail(item, value, fraction):
    assert item_fraction(NUMBERS.item(item), value) == fraction


def test_number_item_total():
    # wait 15 → 0.5 of 1; closed 90 → 0.5 × 1.5 of 1.5 (dispute); 1.25 / 2.5 = 50.0
    assert _total(NUMBERS, wait=15, closed=90) == 50.0


CHOICE = _checklist(_section("information", (
    "      - id: reply\n        type: choice\n        kano: performance\n"
    "        moment: waiting\n        text: {zh: 答复时间, en: Reply time}\n"
    "        options:\n"
    "          - {id: within, label: {zh: 时限内, en: Within}, score: 1}\n"
    "          - {id: beyond, label: {zh: 超时限, en: Beyond}, score: 0.25}\n"
    "          - {id: none, label: {zh: 无, en: None}, score: 0}\n"), function="information"))


@pytest.mark.parametrize(("value", "total", "status"), [
    ("within", 100.0, "met"), ("beyond", 25.0, "partial"), ("none", 0.0, "failed")])
def test_choice_scores_the_option_fraction(value, total, status):
    result = score_visit(CHOICE, _answers(reply=value))
    assert (result.total, result.items[0].status) == (total, status)


DISPUTE = load_checklist("""\
slug: mystery-example
title: {zh: 暗访示例, en: Mystery example}
kind: mystery
sections:
  - id: arrival
    moment: arrival
    title: {zh: 到来, en: Arrival}
    items:
      - {id: dispute_played, function: service, type: yes_no, scored: false,
         text: {zh: 是否演练争议, en: Dispute played}}
      - {id: greet, function: service, type: yes_no, kano: performance,
         text: {zh: 问候, en: Greeted}}
  - id: dispute
    moment: dispute
    title: {zh: 争议, en: Dispute}
    condition: {item: dispute_played, equals: true}
    items:
      - {id: first_asker, function: service, type: yes_no, kano: must_be,
         text: {zh: 首问负责, en: First-asker responsibility}}
""")


def test_a_false_condition_removes_the_dispute_section():
    # dispute not played: only greet counts, 1 of 1 = 100, whatever first_asker says
    result = score_visit(DISPUTE, _answers(dispute_played=False, greet=True, first_asker=False))
    assert result.total == 100.0
    assert result.items[2].status == "not_applicable" and result.items[2].possible == 0
    assert result.sections["dispute"].percent is None
    assert result.items[0].status == "unscored"


def test_a_true_condition_brings_the_dispute_section_in():
    # played: greet 1 of 1, first_asker missed 0 of 1 × 1.5 must-be × 1.5 peak-end = 2.25
    # → 1 / 3.25 = 30.8
    result = score_visit(DISPUTE, _answers(dispute_played=True, greet=True, first_asker=False))
    assert result.total == 30.8


@pytest.mark.parametrize(("a", "b", "c", "grade"), [
    (True, True, True, "excellent"),    # 100
    (True, True, False, "pass"),        # 66.7
    (True, False, False, "fail"),       # 33.3
])
def test_grade_bands(a, b, c, grade):
    assert score_visit(THREE, _answers(a=a, b=b, c=c)).grade.id == grade


def test_unanswered_required_items_score_zero_and_optional_ones_leave():
    definition = _checklist(_section(
        "service", _yes_no("a"), _yes_no("b"), _yes_no("c", extra=", required: false")))
    # a 1, b unanswered 0 of 1, c unanswered and optional → out: 1 / 2 = 50.0
    result = score_visit(definition, _answers(a=True))
    assert result.total == 50.0
    assert [(s.status, s.possible) for s in result.items] == [
        ("met", 1), ("unanswered", 1), ("unanswered", 0)]


def test_nothing_scorable_totals_the_documented_empty_total():
    result = score_visit(THREE, _answers(a=Answer(na=True), b=Answer(na=True), c=Answer(na=True)))
    assert result.total == EMPTY_TOTAL
    assert result.sections["service"].percent is None


def test_plain_dict_answers_are_accepted():
    answers = {"a": {"value": True}, "b": {"value": False}, "c": {"value": None, "na": True}}
    assert score_visit(THREE, answers).total == 50.0


def test_an_invalid_value_is_refused():
    with pytest.raises(ValueError, match="Item a: Must be true or false."):
        score_visit(THREE, _answers(a="yes"))


def test_to_dict_gives_the_breakdown_and_the_heat_map():
    result = score_visit(RED_LINE, _answers(greet=True, argue=False, signage=False))
    data = result.to_dict()
    # greet 1 of 1; argue met 2.25 of 2.25; signage missed 0 of 1.5 → 3.25 / 4.75 = 68.4
    assert data["total"] == 68.4
    assert data["grade"] == {"id": "pass", "label": {"zh": "合格", "en": "Pass"}, "min": 60.0}
    assert data["sections"] == [
        {"id": "service", "score": 3.25, "earned": 3.25, "max": 3.25, "bonus": 0.0,
         "percent": 100.0},
        {"id": "image", "score": 0.0, "earned": 0.0, "max": 1.5, "bonus": 0.0, "percent": 0.0},
    ]
    assert [f["id"] for f in data["functions"]] == ["image", "service"]
    assert [m["id"] for m in data["moments"]] == ["arrival", "dispute"]
    assert data["items"][2] == {
        "item": "signage", "section": "image", "function": "image", "moment": "arrival",
        "kano": "must_be", "status": "failed", "weight_factor": 1.0, "fraction": 0.0,
        "earned": 0.0, "possible": 1.5, "bonus": 0.0,
    }
    assert data["explanation"]["possible"] == 4.75
    # base 100 × 3.25 / 4.75 = 68.42 → 68.4; no bonus; signage lost → at most 99.9
    assert (data["explanation"]["base"], data["explanation"]["bonus_points"],
            data["explanation"]["ceiling"]) == (68.4, 0.0, 99.9)
    assert "min(ceiling, base + bonus_points)" in data["explanation"]["formula"]
    assert heatmap(result) == {("image", "arrival"): 0.0, ("service", "arrival"): 100.0,
                               ("service", "dispute"): 100.0}
    assert [(g["function"], g["moment"]) for g in data["grid"]] == list(heatmap(result))


# Properties, over the shipped checklists and the small examples above.

DEFINITIONS = [
    load_checklist(path.read_text(encoding="utf-8"), path.name)
    for path in sorted((ROOT / "checklists").glob("*.yaml"))
] + [DISPUTE, RED_LINE, DELIGHT]
PROPERTY = settings(max_examples=200, deadline=None)


def _values(item: Item) -> st.SearchStrategy:
    if item.type == "yes_no":
        return st.booleans()
    if item.type == "scale":
        return st.integers(1, 5)
    if item.type == "number":
        top = 2 * max(item.thresholds.good, item.thresholds.fail)
        return st.integers(0, int(top)) | st.floats(0, top)
    if item.type == "choice":
        return st.sampled_from([option.id for option in item.options])
    return st.text(max_size=20)


def _answer(item: Item) -> st.SearchStrategy:
    answers = _values(item).map(Answer)
    return answers | st.just(Answer(na=True)) if item.allow_na else answers


def answers_for(definition: ChecklistDefinition) -> st.SearchStrategy:
    """Any mix of answered, N/A and unanswered items, with valid values."""
    return st.fixed_dictionaries(
        {}, optional={item.id: _answer(item) for _, item in definition.items()})


def _free_scored_items(definition: ChecklistDefinition) -> list[Item]:
    """Scored items no condition depends on: changing them changes nothing else's scope."""
    named = {s.condition.item for s in definition.sections if s.condition}
    named |= {i.condition.item for _, i in definition.items() if i.condition}
    return [item for _, item in definition.items() if item.scored and item.id not in named]


def _by_definition(test):
    return pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.slug)(test)


@_by_definition
@PROPERTY
@given(data=st.data())
def test_totals_and_subtotals_stay_in_range(definition, data):
    result = score_visit(definition, data.draw(answers_for(definition)))
    assert 0 <= result.total <= 100
    for groups in (result.sections, result.moments, result.functions, result.grid):
        for subtotal in groups.values():
            assert 0 <= subtotal.score <= subtotal.max
            assert subtotal.percent is None or 0 <= subtotal.percent <= 100


@_by_definition
@PROPERTY
@given(data=st.data())
def test_a_lost_point_never_shows_100_and_a_bonus_never_fills_a_group(definition, data):
    answers = data.draw(answers_for(definition))
    result = score_visit(definition, answers)
    lost = any(s.earned < s.possible for s in result.items)
    assert not lost or result.total <= LOST_CEILING
    assert all(s.status != "failed" for s in result.items if s.kano == "delighter")
    # Every group shows the same percent with its delighters unanswered.
    delighters = {item.id for item in _free_scored_items(definition) if item.kano == "delighter"}
    plain = score_visit(definition, {k: v for k, v in answers.items() if k not in delighters})
    for name in ("sections", "moments", "functions", "grid"):
        assert ({key: s.percent for key, s in getattr(result, name).items()}
                == {key: s.percent for key, s in getattr(plain, name).items()})


@_by_definition
@PROPERTY
@given(data=st.data())
def test_na_never_changes_another_items_contribution(definition, data):
    answers = data.draw(answers_for(definition))
    item = data.draw(st.sampled_from(_free_scored_items(definition)))
    before = score_visit(definition, answers).items
    after = score_visit(definition, {**answers, item.id: Answer(na=True)}).items
    for old, new in zip(before, after, strict=True):
        if old.item != item.id:
            assert (old.earned, old.possible, old.bonus) == (new.earned, new.possible, new.bonus)


@pytest.mark.parametrize("definition", [d for d in DEFINITIONS if any(
    item.red_line for _, item in d.items())], ids=lambda d: d.slug)
@PROPERTY
@given(data=st.data())
def test_a_failed_red_line_always_gives_zero(definition, data):
    red_lines = [item for _, item in definition.items() if item.red_line]
    answers = data.draw(answers_for(definition))
    item = data.draw(st.sampled_from(red_lines))
    answers[item.id] = Answer(item.inverse)  # the answer that means the behaviour happened
    result = score_visit(definition, answers)
    if applies(definition, item, answers):
        assert result.total == 0.0 and item.id in {r.item for r in result.red_lines}


@_by_definition
@PROPERTY
@given(data=st.data())
def test_a_better_answer_never_lowers_the_total(definition, data):
    answers = data.draw(answers_for(definition))
    item = data.draw(st.sampled_from(_free_scored_items(definition)))
    first, second = data.draw(_values(item)), data.draw(_values(item))
    worse, better = sorted((first, second), key=lambda value: item_fraction(item, value))
    low = score_visit(definition, {**answers, item.id: Answer(worse)}).total
    high = score_visit(definition, {**answers, item.id: Answer(better)}).total
    assert high >= low
