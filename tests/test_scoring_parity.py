"""The tablet's running score (static/js/score.js) and the server's engine agree: visits scored
by hand (tests/data/scoring_cases.yaml) go through both, the JS in Debian's Chromium with the
checklist version document exactly as the API serves it (definition + scoring rules)."""

import re
from urllib.parse import urlsplit

import pytest
import yaml

from supervision import create_app
from supervision.accounts.tokens import issue_token
from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.services import add_version
from supervision.db import db
from supervision.scoring import RULES, score_visit
from tests.conftest import ROOT, create_user

CASES = yaml.safe_load((ROOT / "tests" / "data" / "scoring_cases.yaml").read_text("utf-8"))
ORIGIN = "http://parity.test"  # answered by page.route from the test app; never on a network
ESTIMATE = """async (cases) => {
  const { estimate } = await import('/static/js/score.js');
  return cases.map(({ definition, rules, answers }) => {
    const result = estimate(definition, answers, { sofar: false, rules });
    return { total: result.total, grade: result.grade && result.grade.id,
             sections: result.sections, red_lines: result.red_lines.map((item) => item.id),
             statuses: result.statuses };
  });
}"""


def checklist_yaml(case: dict) -> str:
    document = {"slug": case["id"], "title": {"zh": "评分核对", "en": "Scoring parity"},
                "kind": "audit", **case["checklist"]}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def figures(case: dict, statuses: dict, **got) -> dict:
    """What a case's `expected` holds: the statuses only of the items it names."""
    if "statuses" in case["expected"]:
        got["statuses"] = {item: statuses[item] for item in case["expected"]["statuses"]}
    return got


def plain_answers(case: dict) -> dict:
    """{item: {"value": …}} or {item: {"na": true}}, as the tablet keeps them."""
    return {item: value if isinstance(value, dict) else {"value": value}
            for item, value in case["answers"].items()}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A test app with every case's checklist loaded, and each version document as
    GET /api/v1/checklists/<slug> answers it."""
    folder = tmp_path_factory.mktemp("parity")
    app = create_app({"TESTING": True, "SECRET_KEY": "parity",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'parity.db'}",
                      "PHOTO_DIR": str(folder / "photos")})
    with app.app_context():
        db.create_all()
        for case in CASES:
            add_version(checklist_yaml(case), f"{case['id']}.yaml")
        db.session.commit()
    user = create_user(app, "supervisor")
    with app.app_context():
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
    client = app.test_client()
    documents = {case["id"]: client.get(f"/api/v1/checklists/{case['id']}", headers=headers).json
                 for case in CASES}
    yield app, documents
    with app.app_context():
        db.engine.dispose()


def test_the_version_document_carries_the_scoring_rules(served):
    _app, documents = served
    assert all(document["scoring"] == RULES for document in documents.values())


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_the_engine_gives_the_hand_computed_figures(served, case):
    definition = ChecklistDefinition.from_dict(served[1][case["id"]]["definition"])
    result = score_visit(definition, plain_answers(case))
    assert figures(
        case, {s.item: s.status for s in result.items},
        total=result.total, grade=result.grade.id,
        sections={key: subtotal.percent for key, subtotal in result.sections.items()},
        red_lines=[red_line.item for red_line in result.red_lines],
    ) == case["expected"], case["why"]


@pytest.mark.browser
def test_score_js_gives_the_hand_computed_figures(served, browser):
    app, documents = served
    page = browser.new_page()
    page.route(f"{ORIGIN}/**", lambda route: _from_app(app, route))
    page.goto(f"{ORIGIN}/")
    got = page.evaluate(ESTIMATE, [
        {"definition": documents[case["id"]]["definition"],
         "rules": documents[case["id"]]["scoring"], "answers": plain_answers(case)}
        for case in CASES])
    page.close()
    assert {case["id"]: figures(case, **js) for case, js in zip(CASES, got, strict=True)} == {
        case["id"]: case["expected"] for case in CASES}


def _from_app(app, route) -> None:
    """The test app's static files; an empty page at the root to import them from."""
    path = urlsplit(route.request.url).path
    if path == "/":
        route.fulfill(content_type="text/html", body="<!doctype html><title>parity</title>")
        return
    answer = app.test_client().get(path)
    body = answer.get_data()
    answer.close()
    route.fulfill(status=answer.status_code, content_type=answer.content_type, body=body)


def test_score_js_has_no_policy_number_of_its_own():
    """Every factor, threshold and rounding of score.js comes from the rules: its only number
    literals are 0 and 1, and the 10 and 0.5 of rounding half up to decimal places."""
    source = (ROOT / "static" / "js" / "score.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
    numbers = set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?", code))
    assert numbers <= {"0", "1", "10", "0.5"}
