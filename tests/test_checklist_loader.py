"""Checklist YAML loading: the shipped files, one broken file per defect, and the definition API."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from supervision.checklists.definition import (
    DEFAULT_GRADES,
    FUNCTIONS,
    MOMENTS,
    Answer,
    ChecklistDefinition,
    Text,
    applies,
    missing_required,
    validate_answer,
)
from supervision.checklists.loader import (
    ChecklistError,
    content_hash,
    decode_upload,
    definition_hash,
    load_checklist,
    load_directory,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "checklists").glob("*.yaml"))
BROKEN = Path(__file__).resolve().parent / "data" / "broken"


def _load(path: Path) -> ChecklistDefinition:
    return load_checklist(path.read_text(encoding="utf-8"), path.name)


def _texts(value):
    """Every bilingual text inside plain to_dict() data."""
    if isinstance(value, dict):
        if set(value) == {"zh", "en"}:
            yield value
        else:
            for child in value.values():
                yield from _texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _texts(child)


def test_the_three_checklists_are_shipped():
    assert [p.stem for p in SHIPPED] == ["dispute-handling", "mystery-visit", "storefront-audit"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_checklist_invariants(path):
    definition = _load(path)
    items = [item for _, item in definition.items()]
    assert definition.slug == path.stem
    assert len({item.id for item in items}) == len(items)
    assert len({s.id for s in definition.sections}) == len(definition.sections)
    assert all(item.function in FUNCTIONS and item.moment in MOMENTS for item in items)
    for text in _texts(definition.to_dict()):
        assert text["zh"].strip() and text["en"].strip(), text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_items_coach_by_questions(path):
    for _, item in _load(path).items():
        if item.scored:
            assert item.standard and item.coaching_question, item.id
            assert item.coaching_question.zh.endswith("？"), item.id
            assert item.coaching_question.en.endswith("?"), item.id


# Words that speak to the collector ("you", "press", "choose N/A"): never in what the store reads.
SECOND_PERSON = (re.compile(r"你"), re.compile(r"\byou(r|rs|rself)?\b", re.IGNORECASE))
INSTRUCTIONS = (re.compile(r"按下|选“|按频度打分|拍照|拍下"),
                re.compile(r"\b(press|choose not applicable|answer (yes|no)|rate how often|"
                           r"photograph|take (a|one) photo)", re.IGNORECASE))


def _unquoted(text: str) -> str:
    """The text without what staff say in quotes ("thank you for coming" is not the reader)."""
    return re.sub(r"“[^”]*”|\"[^\"]*\"", "", text)


def _speaks_to_collector(text: Text, patterns) -> bool:
    zh, en = patterns
    return bool(zh.search(_unquoted(text.zh)) or en.search(_unquoted(text.en)))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_what_the_store_reads_is_in_the_third_person(path):
    """The standard and the report text describe what good looks like; how the shopper or the
    supervisor works stays in guidance, which no report prints."""
    for _, item in _load(path).items():
        store_text = item.report_text or item.text
        for text in (item.standard, item.report_text):
            if text is not None:
                assert not _speaks_to_collector(text, INSTRUCTIONS), (item.id, text)
        for text in (item.standard, store_text):
            if text is not None:
                assert not _speaks_to_collector(text, SECOND_PERSON), (item.id, text)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_guidance_is_not_a_copy_of_the_standard(path):
    for _, item in _load(path).items():
        if item.guidance and item.standard:
            assert item.guidance.zh.rstrip("。") != item.standard.zh, item.id


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_red_lines_are_few_and_unmistakable(path):
    red_lines = [item for _, item in _load(path).items() if item.red_line]
    assert 1 <= len(red_lines) <= 3
    assert all(item.inverse and item.kano == "must_be" for item in red_lines)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_definition_round_trips_through_plain_data(path):
    definition = _load(path)
    stored = json.loads(json.dumps(definition.to_dict()))
    assert ChecklistDefinition.from_dict(stored) == definition
    assert ChecklistDefinition.from_dict(stored).to_dict() == stored
    # JSON is YAML: the normalised form is itself a valid checklist file.
    assert load_checklist(json.dumps(stored)) == definition


@pytest.mark.parametrize(("slug", "low", "high"), [
    ("storefront-audit", 35, 50),
    ("mystery-visit", 30, 50),
    ("dispute-handling", 10, 14),
])
def test_shipped_checklist_sizes(slug, low, high):
    definition = _load(ROOT / "checklists" / f"{slug}.yaml")
    assert low <= len(list(definition.items())) <= high


def test_storefront_audit_covers_the_six_functions():
    definition = _load(ROOT / "checklists" / "storefront-audit.yaml")
    assert sorted(s.function for s in definition.sections) == sorted(FUNCTIONS)
    kano = {item.kano for _, item in definition.items()}
    assert kano == {"must_be", "performance", "delighter"}


def test_mystery_visit_follows_the_key_moments():
    definition = _load(ROOT / "checklists" / "mystery-visit.yaml")
    assert [s.moment for s in definition.sections] == list(MOMENTS)
    dispute = next(s for s in definition.sections if s.moment == "dispute")
    assert dispute.condition.item == "scenario_dispute"
    assert not definition.item("scenario_dispute").scored
    assert definition.item("arr_signage").photo.rule == "required"
    assert definition.item("wai_minutes").type == "number"
    assert {"entered", "ticket_taken", "called", "departed"} <= {m.id for m in definition.moments}


def test_mystery_visit_declares_the_meaning_the_code_looks_up():
    definition = _load(ROOT / "checklists" / "mystery-visit.yaml")
    assert all(m.moment in MOMENTS for m in definition.moments)
    assert {m.id: m.moment for m in definition.moments}["dispute_raised"] == "dispute"
    queue = definition.interval_for("queue_wait")
    assert (queue.start, queue.end) == ("ticket_taken", "called")
    assert [i.id for i in definition.intervals if i.peak] == ["dispute"]
    assert definition.item_for("dispute_record").id == "dis_record_form"
    assert definition.item_for("impression").id == "dep_overall_impression"
    assert definition.item_for("best_moment").id == "dep_best_moment"
    assert definition.item("wai_minutes").interval == "queue"
    assert definition.item("wai_minutes").report_text.en == (
        "Minutes the customer waited from ticket to call")


@pytest.mark.parametrize("slug", ["storefront-audit", "dispute-handling"])
def test_keys_left_unset_stay_out_of_the_plain_data(slug):
    """So a checklist that uses no roles or intervals keeps the hash it had before they existed."""
    plain = _load(ROOT / "checklists" / f"{slug}.yaml").to_dict()
    assert "intervals" not in plain
    assert not any("role" in item for section in plain["sections"] for item in section["items"])


def _without(plain: dict, keys: tuple[str, ...]) -> dict:
    """`plain` as a version stored before `keys` existed: no item carries them."""
    stored = json.loads(json.dumps(plain))
    for section in stored["sections"]:
        for item in section["items"]:
            for key in keys:
                item.pop(key, None)
    return stored


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_version_stored_before_standard_and_report_text_still_loads(path):
    """Stored definitions have no standard, report_text or interval: they load, read as unset,
    and keep the hash they were stored with (the new keys stay out of to_dict while unset)."""
    stored = _without(_load(path).to_dict(), ("standard", "report_text", "interval"))
    definition = ChecklistDefinition.from_dict(stored)
    assert all(item.standard is None and item.report_text is None and item.interval is None
               for _, item in definition.items())
    assert definition.to_dict() == stored
    assert definition_hash(definition) == definition_hash(ChecklistDefinition.from_dict(stored))
    assert definition_hash(definition) == hashlib.sha256(
        json.dumps(stored, sort_keys=True).encode("utf-8")).hexdigest()


def test_comments_and_layout_do_not_change_the_content_hash():
    text = (ROOT / "checklists" / "dispute-handling.yaml").read_text(encoding="utf-8")
    reformatted = "# another comment\n\n" + "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ).replace("kind: audit", "kind: audit   # still an audit")
    assert content_hash(reformatted) == content_hash(text)
    assert content_hash(text.replace("weight: 2", "weight: 3", 1)) != content_hash(text)


def test_load_directory_reads_every_shipped_file():
    loaded = load_directory(ROOT / "checklists")
    assert set(loaded) == {p.stem for p in SHIPPED}
    definition, text = loaded["mystery-visit"]
    assert text == (ROOT / "checklists" / "mystery-visit.yaml").read_text(encoding="utf-8")


def test_load_directory_refuses_two_files_with_one_slug(tmp_path):
    text = (ROOT / "checklists" / "dispute-handling.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ChecklistError) as caught:
        load_directory(tmp_path)
    assert caught.value.problems == [
        f"{tmp_path / 'b.yaml'}: slug dispute-handling is already used by another file."
    ]


BROKEN_CASES = [
    ("syntax_error.yaml",
     ["syntax_error.yaml:18: YAML syntax error: mapping values are not allowed here."]),
    ("not_a_mapping.yaml",
     ["not_a_mapping.yaml:2: The document must be a mapping with slug, title, kind and sections."]),
    ("duplicate_item_id.yaml",
     ["duplicate_item_id.yaml:15: item greet: id: Duplicate item id (first used in section "
      "service)."]),
    ("duplicate_section_id.yaml",
     ["duplicate_section_id.yaml:15: section service: id: Duplicate section id."]),
    ("duplicate_key.yaml", ["duplicate_key.yaml:19: item smile: kano: Duplicate key."]),
    ("unknown_type.yaml",
     ["unknown_type.yaml:17: item smile: type: Must be one of: yes_no, scale, number, choice, "
      "text."]),
    ("unknown_kano.yaml",
     ["unknown_kano.yaml:18: item smile: kano: Must be one of: must_be, performance, delighter."]),
    ("unknown_field.yaml", ["unknown_field.yaml:19: item smile: colour: Unknown field."]),
    ("negative_weight.yaml", ["negative_weight.yaml:19: item smile: weight: Must be ≥ 0."]),
    ("condition_missing_item.yaml",
     ["condition_missing_item.yaml:19: item smile: condition.item: Unknown item 'greeted'."]),
    ("condition_later_item.yaml",
     ["condition_later_item.yaml:19: item smile: condition.item: Item 'thanks' comes later; "
      "a condition may only name an earlier item."]),
    ("condition_self.yaml",
     ["condition_self.yaml:19: item smile: condition.item: A condition cannot refer to its own "
      "item."]),
    ("condition_bad_value.yaml",
     ["condition_bad_value.yaml:19: item smile: condition.equals: Item 'greet' cannot have this "
      "answer: Must be true or false."]),
    ("missing_translation.yaml",
     ["missing_translation.yaml:19: item smile: text.en: Missing translation.",
      "missing_translation.yaml:23: item smile: guidance.en: Missing translation."]),
    ("missing_moment_tag.yaml",
     ["missing_moment_tag.yaml:15: item smile: moment: Missing moment: items of a section "
      "organised by function name their moment."]),
    ("number_without_thresholds.yaml",
     ["number_without_thresholds.yaml:15: item wait_minutes: thresholds: A number item needs "
      "thresholds: good, fail and better."]),
    ("thresholds_wrong_direction.yaml",
     ["thresholds_wrong_direction.yaml:20: item wait_minutes: thresholds.good: With better: "
      "lower, good must be below fail."]),
    ("choice_without_options.yaml",
     ["choice_without_options.yaml:15: item reply_time: options: A choice item needs at least "
      "two options."]),
    ("red_line_not_must_be.yaml",
     ["red_line_not_must_be.yaml:19: item argue: red_line: A red line must be a yes_no item of "
      "Kano class must_be."]),
    ("photo_required_min_zero.yaml",
     ["photo_required_min_zero.yaml:19: item signage: photo.min: A required photo needs "
      "min ≥ 1."]),
    ("photo_negative_min.yaml",
     ["photo_negative_min.yaml:19: item signage: photo.min: Must be ≥ 0."]),
    ("timed_moment_without_moment.yaml",
     ["timed_moment_without_moment.yaml:7: moment called: moment: Missing key moment: name the "
      "key moment this timed moment belongs to."]),
    ("interval_unknown_moment.yaml",
     ["interval_unknown_moment.yaml:11: interval queue: end: Unknown timed moment 'caled'; list "
      "it under moments."]),
    ("interval_same_moments.yaml",
     ["interval_same_moments.yaml:11: interval queue: end: The interval starts and ends at the "
      "same timed moment."]),
    ("duplicate_interval_role.yaml",
     ["duplicate_interval_role.yaml:11: interval wait: role: Duplicate role (interval queue "
      "already has it)."]),
    ("duplicate_item_role.yaml",
     ["duplicate_item_role.yaml:25: item record_stub: role: Duplicate role (item record_form "
      "already has it)."]),
    ("unknown_item_role.yaml",
     ["unknown_item_role.yaml:19: item record_form: role: Must be one of: dispute_record, "
      "impression, best_moment."]),
    ("impression_not_text.yaml",
     ["impression_not_text.yaml:16: item overall: role: Only a text item can be the impression: "
      "reports quote it as written."]),
    ("interval_not_number.yaml",
     ["interval_not_number.yaml:16: item short_wait: interval: Only number items state the "
      "duration of an interval."]),
    ("interval_unknown.yaml",
     ["interval_unknown.yaml:16: item wait_minutes: interval: Unknown interval 'queu'; list it "
      "under intervals."]),
    ("standard_missing_translation.yaml",
     ["standard_missing_translation.yaml:15: item greeted: standard.en: Missing translation.",
      "standard_missing_translation.yaml:19: item greeted: report_text.en: Missing translation."]),
    ("dispute_record_not_yes_no.yaml",
     ["dispute_record_not_yes_no.yaml:19: item record_form: role: Only a yes_no item can be the "
      "dispute_record: review sets it to failed."]),
    ("missing_sections.yaml",
     ["missing_sections.yaml:4: kind: Must be one of: audit, mystery.",
      "missing_sections.yaml:2: sections: Missing data for required field."]),
]


def test_every_broken_file_has_a_case():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(n for n, _ in BROKEN_CASES)


@pytest.mark.parametrize(("name", "problems"), BROKEN_CASES, ids=[n for n, _ in BROKEN_CASES])
def test_broken_file_is_refused_with_a_precise_message(name, problems):
    with pytest.raises(ChecklistError) as caught:
        load_checklist((BROKEN / name).read_text(encoding="utf-8"), name)
    assert caught.value.problems == problems
    assert caught.value.source == name
    assert str(caught.value) == "\n".join(problems)


@pytest.mark.parametrize(("text", "problems"), [
    ("slug: tiny\x0b\n", ["t.yaml:1: Must be printable text (found U+000B)."]),
    ("slug: tiny\ntitle: {zh: \x00, en: x}\r\n",
     ["t.yaml:2: Must be printable text (found U+0000)."]),
    ("a: \x85\n", ["t.yaml:1: Must be printable text (found U+0085)."]),
    ("a: \ufffe\n", ["t.yaml: YAML error: unacceptable character #xfffe: special characters are "
                     "not allowed\n  in \"<unicode string>\", position 3"]),
    ("x\x00\n" * 12, [*(f"t.yaml:{n}: Must be printable text (found U+0000)."
                        for n in range(1, 11)), "t.yaml: 2 more lines like these."]),
])
def test_a_checklist_is_printable_text(text, problems):
    with pytest.raises(ChecklistError) as caught:
        load_checklist(text, "t.yaml")
    assert caught.value.problems == problems


def test_a_control_character_written_as_a_yaml_escape_is_named_where_it_is():
    text = TINY.replace("text: {zh: 微笑, en: Smile}", 'text: {zh: "微\\e笑", en: Smile}')
    with pytest.raises(ChecklistError) as caught:
        load_checklist(text, "t.yaml")
    assert caught.value.problems == [
        "t.yaml:15: item smile: text.zh: Must be printable text (found U+001B)."]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-8", "gb18030"])
def test_an_upload_is_decoded_from_what_editors_save(encoding):
    assert decode_upload(TINY.encode(encoding)) == TINY


TINY = """\
slug: tiny
title: {zh: 小表, en: Tiny}
kind: mystery
grades:
  - {id: low, label: {zh: 低, en: Low}, min: 0}
  - {id: high, label: {zh: 高, en: High}, min: 75}
sections:
  - id: arrival
    moment: arrival
    title: {zh: 到来, en: Arrival}
    items:
      - {id: dispute_played, function: service, type: yes_no, scored: false,
         text: {zh: 是否演练争议, en: Dispute played}}
      - {id: smile, function: service, type: scale, kano: performance,
         text: {zh: 微笑, en: Smile}}
      - {id: wait, function: service, type: number, kano: performance, allow_na: true,
         thresholds: {good: 10, fail: 20, better: lower}, text: {zh: 等候, en: Wait}}
      - {id: reply, function: information, type: choice, kano: performance,
         text: {zh: 答复时间, en: Reply time},
         options: [{id: fast, label: {zh: 快, en: Fast}, score: 1},
                   {id: slow, label: {zh: 慢, en: Slow}, score: 0.5}]}
      - {id: notes, function: service, type: text, text: {zh: 备注, en: Notes}}
  - id: dispute
    moment: dispute
    title: {zh: 争议, en: Dispute}
    condition: {item: dispute_played, equals: true}
    items:
      - {id: calm, function: service, type: yes_no, kano: must_be,
         text: {zh: 先安抚, en: Calmed first}}
      - {id: gift, function: service, type: yes_no, kano: delighter,
         condition: {item: calm, equals: true}, text: {zh: 小礼品, en: Small gift}}
"""


@pytest.fixture
def tiny() -> ChecklistDefinition:
    return load_checklist(TINY)


def test_defaults_and_inherited_tags(tiny):
    assert tiny.item("smile").moment == "arrival" and tiny.item("smile").function == "service"
    assert tiny.item("smile").required and tiny.item("smile").weight == 1.0
    assert not tiny.item("notes").required and not tiny.item("notes").scored
    assert tiny.item("calm").photo.rule == "none"
    assert [g.id for g in tiny.grades] == ["high", "low"]
    assert tiny.section_of("gift").id == "dispute"


def test_default_grades_when_omitted():
    without = TINY[:TINY.index("grades:")] + TINY[TINY.index("sections:"):]
    assert load_checklist(without).grades == DEFAULT_GRADES


@pytest.mark.parametrize(("total", "grade"), [
    (100, "high"), (75, "high"), (74.9, "low"), (0, "low")])
def test_grade_for_uses_the_highest_band_reached(tiny, total, grade):
    assert tiny.grade_for(total).id == grade


def test_unknown_item_is_a_key_error(tiny):
    with pytest.raises(KeyError):
        tiny.item("nope")


def test_roles_and_intervals_are_optional(tiny):
    assert tiny.moments == () and tiny.intervals == ()
    assert tiny.item_for("dispute_record") is None and tiny.interval_for("queue_wait") is None


@pytest.mark.parametrize(("item", "value", "problem"), [
    ("dispute_played", True, None),
    ("dispute_played", "yes", "Must be true or false."),
    ("smile", 5, None),
    ("smile", 0, "Must be one of 1..5."),
    ("smile", 2.5, "Must be one of 1..5."),
    ("smile", True, "Must be one of 1..5."),
    ("wait", 12.5, None),
    ("wait", -1, "Must be a number ≥ 0."),
    ("wait", "12", "Must be a number ≥ 0."),
    ("wait", float("nan"), "Must be a number ≥ 0."),
    ("reply", "slow", None),
    ("reply", "never", "Must be one of: fast, slow."),
    ("notes", "friendly", None),
    ("notes", 3, "Must be text."),
])
def test_validate_answer(tiny, item, value, problem):
    assert validate_answer(tiny.item(item), value) == problem


@pytest.mark.parametrize(("item", "problem"), [
    ("wait", None),
    ("smile", "Not applicable is not allowed for this item."),
])
def test_not_applicable_needs_allow_na(tiny, item, problem):
    assert validate_answer(tiny.item(item), None, na=True) == problem


@pytest.mark.parametrize(("answers", "calm", "gift"), [
    ({}, False, False),
    ({"dispute_played": Answer(False)}, False, False),
    ({"dispute_played": Answer(True)}, True, False),
    ({"dispute_played": {"value": True}, "calm": {"value": True}}, True, True),
    ({"dispute_played": Answer(True), "calm": Answer(na=True)}, True, False),
    # The gift's condition item is itself switched off, so the gift is too.
    ({"dispute_played": Answer(False), "calm": Answer(True)}, False, False),
])
def test_applies_follows_conditions_through_sections(tiny, answers, calm, gift):
    assert applies(tiny, tiny.item("calm"), answers) is calm
    assert applies(tiny, tiny.item("gift"), answers) is gift
    assert applies(tiny, tiny.section_of("calm"), answers) is calm


def test_missing_required_skips_items_that_do_not_apply(tiny):
    expected = ["dispute_played", "smile", "wait", "reply"]
    assert [i.id for i in missing_required(tiny, {})] == expected
    answers = {"dispute_played": Answer(True), "smile": Answer(3)}
    assert [i.id for i in missing_required(tiny, answers)] == ["wait", "reply", "calm"]


@pytest.mark.parametrize(("lang", "expected"), [("zh", "甲"), ("zh-CN", "甲"), ("en", "A"),
                                                ("fr", "A")])
def test_text_get_prefers_chinese_for_any_zh_tag(lang, expected):
    assert Text("甲", "A").get(lang) == expected
