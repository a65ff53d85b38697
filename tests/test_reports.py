"""PDF coaching reports: rendered from realistic data in both languages and read back like a
person would (text, fonts, images, page pictures); access, caching, escaping, no fetching."""

import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from supervision import tasks
from supervision.accounts.tokens import issue_token
from supervision.db import db
from supervision.reports.cache import inputs_digest, report_inputs
from supervision.reports.pdf import RestrictedFetcher
from tests.conftest import OUTPUT, ROOT
from tests.report_data import (
    POSTER_NOTE,
    RED_LINE_NOTE,
    SHOPPER_NAME,
    SUPERVISOR_NAME,
    build_region,
)

PAGES = OUTPUT / "reports"
LANGS = ["zh", "en"]
WORDS = {  # what each language must show: a checklist item text and fixed report wording
    "zh": {"item": "厅内外没有过期海报", "red": "100 − 1 = 0", "grade": "不合格",
           "strengths": "做得好的地方", "store": "上海南京东路营业厅"},
    "en": {"item": "No expired posters", "red": "100 − 1 = 0", "grade": "Fail",
           "strengths": "What went well", "store": "Shanghai Nanjing Rd E."},
}


@pytest.fixture
def world(app, load_checklists):
    load_checklists()
    with app.app_context():
        built = build_region(app)
    return built


@pytest.fixture
def plain_world(app, load_checklists):
    """The same region without photos, one earlier audit per store."""
    return _plain(app, load_checklists, history=1)


@pytest.fixture
def small_world(app, load_checklists):
    """Just the featured visits: for the access table."""
    return _plain(app, load_checklists, history=0)


def _plain(app, load_checklists, history: int) -> dict:
    load_checklists()
    with app.app_context():
        built = build_region(app, photo_size=None, history=history)
    return built


def get(client, world, role, url, **headers):
    return client.get(url, headers={"Authorization": f"Bearer {world['tokens'][role]}", **headers})


def pdf_text(data: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdf_images(data: bytes, tmp_path: Path) -> list[dict]:
    """pdfimages -list: one row per placed image, with its object id and pixel size."""
    path = tmp_path / "images.pdf"
    path.write_bytes(data)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    rows = [line.split() for line in listing]
    return [{"width": int(r[3]), "height": int(r[4]), "encoding": r[8], "object": r[10]}
            for r in rows]


def save_pages(data: bytes, name: str, pages: int = 3) -> list[Path]:
    """Page pictures under test-output/reports for a person to look at."""
    PAGES.mkdir(parents=True, exist_ok=True)
    source = PAGES / f"{name}.pdf"
    source.write_bytes(data)
    for old in PAGES.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-l", str(pages), str(source),
                    str(PAGES / name)], check=True)
    return sorted(PAGES.glob(f"{name}-*.png"))


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_visit_reports_read_back(client, world, tmp_path, lang, database_url):
    words = WORDS[lang]
    audit = get(client, world, "manager", f"/api/v1/visits/{world['audit']}/report.pdf?lang={lang}")
    assert audit.status_code == 200, audit.get_data(as_text=True)
    assert audit.mimetype == "application/pdf"
    assert "attachment;" in audit.headers["Content-Disposition"]
    text = normalise(pdf_text(audit.data, tmp_path, "audit"))
    for expected in (words["store"], words["item"], words["strengths"], POSTER_NOTE, "89.7",
                     SUPERVISOR_NAME):
        assert normalise(expected) in text, expected
    images = pdf_images(audit.data, tmp_path)
    assert len({image["object"] for image in images}) == 5  # every photo, each embedded once
    assert all((i["width"], i["height"], i["encoding"]) == (1600, 1200, "jpeg") for i in images)
    assert len(audit.data) < 3 * 1024 * 1024

    mystery = get(client, world, "manager",
                  f"/api/v1/visits/{world['mystery']}/report.pdf?lang={lang}&audience=store")
    text = normalise(pdf_text(mystery.data, tmp_path, "mystery"))
    for expected in (words["red"], words["grade"], normalise(RED_LINE_NOTE), "14:19:05"):
        assert normalise(expected) in text, expected
    assert SHOPPER_NAME not in text and "shopper@example.com" not in text
    assert len({i["object"] for i in pdf_images(mystery.data, tmp_path)}) == 4
    if database_url.startswith("sqlite"):
        assert save_pages(audit.data, f"visit-audit-{lang}")
        assert save_pages(mystery.data, f"visit-mystery-{lang}")
    assert_preview_photos_come_from_the_api(client, world, lang)


def assert_preview_photos_come_from_the_api(client, world, lang):
    url = f"/api/v1/visits/{world['audit']}/report.html?lang={lang}"
    preview = get(client, world, "manager", url)
    body = preview.get_data(as_text=True)
    sources = re.findall(r'<img class="photo[^"]*" src="([^"]+)"', body)
    assert sources
    assert all(s.startswith(f"/api/v1/visits/{world['audit']}/photos/") for s in sources)
    with get(client, world, "manager", sources[0].replace("&amp;", "&")) as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"


def test_fonts_are_embedded_subsets_and_chinese_is_extractable(client, plain_world, tmp_path):
    report = get(client, plain_world, "admin",
                 f"/api/v1/visits/{plain_world['audit']}/report.pdf?lang=zh")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(report.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes yes yes " in f"{line} " for line in fonts), fonts
    assert any("Noto-Sans-CJK-SC" in line for line in fonts)
    page_one = PdfReader(path).pages[0].extract_text()
    assert "现场督导辅导报告" in normalise(page_one)


def test_internal_version_names_the_shopper(client, plain_world, tmp_path):
    url = f"/api/v1/visits/{plain_world['mystery']}/report.pdf?lang=zh&audience=internal"
    internal = get(client, plain_world, "manager", url)
    assert internal.status_code == 200
    assert SHOPPER_NAME in pdf_text(internal.data, tmp_path, "internal")
    assert get(client, plain_world, "supervisor", url).status_code == 403


@pytest.mark.parametrize("lang", LANGS)
def test_store_and_region_reports_read_back(client, plain_world, tmp_path, lang, database_url):
    words = WORDS[lang]
    store = get(client, plain_world, "manager",
                f"/api/v1/stores/{plain_world['store_ids'][0]}/report.pdf?lang={lang}")
    assert store.status_code == 200, store.get_data(as_text=True)
    text = normalise(pdf_text(store.data, tmp_path, "store"))
    for expected in (words["store"], words["item"], "SH001-0003"):
        assert normalise(expected) in text, expected
    region_url = f"/api/v1/regions/{plain_world['region_id']}/report.pdf?lang={lang}"
    pending = get(client, plain_world, "manager", region_url)
    assert pending.status_code == 202
    tasks.drain()
    region = get(client, plain_world, "manager", region_url)
    assert region.status_code == 200 and region.mimetype == "application/pdf"
    text = normalise(pdf_text(region.data, tmp_path, "region"))
    for expected in (words["store"], "上海徐家汇营业厅" if lang == "zh" else "Shanghai Xujiahui"):
        assert normalise(expected) in text, expected
    if database_url.startswith("sqlite"):
        assert save_pages(store.data, f"store-{lang}")
        assert save_pages(region.data, f"region-{lang}")


def test_reports_are_cached_by_content(app, client, plain_world):
    url = f"/api/v1/visits/{plain_world['audit']}/report.pdf?lang=en"
    first = get(client, plain_world, "manager", url)
    again = get(client, plain_world, "manager", url)
    assert first.headers["ETag"] == again.headers["ETag"] and first.data == again.data
    cached = sorted(Path(app.config["PHOTO_DIR"], "reports").rglob("*.pdf"))
    assert len(cached) == 1
    unchanged = get(client, plain_world, "manager", url, **{"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304
    with app.app_context():
        from supervision.visits.models import Response

        response = db.session.scalars(db.select(Response).filter_by(
            visit_id=plain_world["audit"], item_id="img_no_expired_posters")).one()
        response.note = "海报已于当天撤下。"
        db.session.commit()
    changed = get(client, plain_world, "manager", url)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert len(sorted(Path(app.config["PHOTO_DIR"], "reports").rglob("*.pdf"))) == 2


REPORT_INPUTS = report_inputs(ROOT / "supervision", ROOT / "templates", ROOT / "static")


def copy_report_inputs(target: Path) -> tuple[Path, Path, Path]:
    """The files a report depends on, copied under `target` as laid out in the repository."""
    for _name, path in REPORT_INPUTS:
        copy = target / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    return target / "supervision", target / "templates", target / "static"


def test_report_version_covers_the_report_code_and_templates():
    """Every module of reports/ and scoring/ and every report template is an input."""
    expected = {f"code/{p.relative_to(ROOT / 'supervision').as_posix()}"
                for package in ("reports", "scoring")
                for p in (ROOT / "supervision" / package).glob("*.py")}
    expected |= {f"templates/{p.name}" for p in (ROOT / "templates" / "reports").iterdir()}
    assert expected | {"static/css/reports.css"} <= {name for name, _path in REPORT_INPUTS}


def test_report_version_is_the_same_wherever_the_code_lies(tmp_path):
    """Machines sharing the report cache compute the same version from the same files."""
    real = inputs_digest(ROOT / "supervision", ROOT / "templates", ROOT / "static")
    assert inputs_digest(*copy_report_inputs(tmp_path)) == real


@pytest.mark.parametrize("name", ["code/reports/context.py", "code/reports/labels.py",
                                  "code/scoring/engine.py", "code/checklists/definition.py",
                                  "templates/visit.html", "static/css/reports.css"])
def test_a_changed_report_source_changes_the_version(tmp_path, name):
    folders = copy_report_inputs(tmp_path)
    before = inputs_digest(*folders)
    path = dict(report_inputs(*folders))[name]
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\n", 1), encoding="utf-8")
    assert inputs_digest(*folders) != before


def test_a_new_report_module_changes_the_version(tmp_path):
    folders = copy_report_inputs(tmp_path)
    before = inputs_digest(*folders)
    (folders[0] / "reports" / "extra.py").write_text('"""More report code."""\n')
    assert inputs_digest(*folders) != before


@pytest.mark.parametrize(("role", "kind", "status"), [
    ("shopper", "store", 403),
    ("shopper", "region", 403),
    ("supervisor", "region", 403),
    ("supervisor", "store", 200),
    ("supervisor", "internal", 403),
    ("supervisor", "visit", 200),
    ("shopper", "mystery", 200),  # its own visit, store version
    ("shopper", "audit", 404),
    ("outsider", "store", 404),
    ("outsider", "region", 404),
    ("outsider", "visit", 404),
])
def test_report_access(app, client, small_world, make_user, role, kind, status):
    plain_world = small_world
    if role == "outsider":
        with app.app_context():
            plain_world["tokens"]["outsider"] = issue_token(make_user("manager"))
    urls = {
        "store": f"/api/v1/stores/{plain_world['store_ids'][0]}/report.pdf",
        "region": f"/api/v1/regions/{plain_world['region_id']}/report.pdf",
        "internal": f"/api/v1/visits/{plain_world['audit']}/report.pdf?audience=internal",
        "visit": f"/api/v1/visits/{plain_world['audit']}/report.pdf",
        "audit": f"/api/v1/visits/{plain_world['audit']}/report.pdf",
        "mystery": f"/api/v1/visits/{plain_world['mystery']}/report.pdf",
    }
    answer = get(client, plain_world, role, urls[kind])
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    if status >= 400:
        assert answer.is_json and answer.json["code"] == status


@pytest.fixture
def bare(make_world):
    """A store and its manager, no visits: enough for argument checks."""
    world = make_world(regions={"east": {}}, stores={"store": "east"},
                       people={"manager": ("manager", "east")})
    return {"store": world["store"], "headers": world["headers"]["manager"]}


@pytest.mark.parametrize(("query", "field"), [
    ("lang=fr", "lang"),
    ("format=docx", "format"),
    ("from=2024-05-10&to=2024-05-01", "from"),
    ("from=yesterday", "from"),
    ("to=2024-13-01", "to"),
    ("from=2020-01-01&to=2024-01-01", "from"),
])
def test_bad_period_arguments_name_the_field(client, bare, query, field):
    answer = client.get(f"/api/v1/stores/{bare['store'].id}/report.pdf?{query}",
                        headers=bare["headers"])
    assert answer.status_code == 422
    assert field in answer.json["errors"]["query"]


def test_bad_audience_names_the_field(client, bare):
    answer = client.get("/api/v1/visits/6f1c1b7e-0000-4000-8000-000000000000/report.pdf"
                        "?audience=everyone", headers=bare["headers"])
    assert answer.status_code == 422 and "audience" in answer.json["errors"]["query"]


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    """A local HTTP server that only counts requests: a report must never reach it."""
    _Counting.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_malicious_notes_render_as_text_without_fetching(app, client, plain_world, tmp_path, trap):
    notes = {
        "img_no_expired_posters": "<b>bold</b><script>alert(1)</script><img src=file:///etc/passwd>",
        "svc_greeting_10s":
            f"see <img src=\"{trap}/pixel.png\"> and {trap}/track <a href='{trap}'>x</a>",
        "img_signage_clean": "مرحبا بكم في المتجر — RTL 😀🎉 emoji",
        "txn_repeat_terms": "长" * 4000 + "A" * 6000,
    }
    with app.app_context():
        from supervision.visits.models import Response, Visit

        for item, note in notes.items():
            db.session.scalars(db.select(Response).filter_by(
                visit_id=plain_world["audit"], item_id=item)).one().note = note
        visit = db.session.get(Visit, plain_world["audit"])
        visit.notes = f"<link rel=stylesheet href='{trap}/x.css'>"
        db.session.commit()
    url = f"/api/v1/visits/{plain_world['audit']}/report.pdf"
    report = get(client, plain_world, "manager", url)
    assert report.status_code == 200
    text = pdf_text(report.data, tmp_path, "malicious")
    flat = normalise(text)
    assert normalise("<img src=file:///etc/passwd>") in flat
    assert normalise("<script>alert(1)</script>") in flat
    assert normalise(f"{trap}/track") in flat and "مرحبا" in text and "😀" in text
    assert flat.count("A" * 100) >= 1 and "root:x:0:0" not in text
    assert pdf_images(report.data, tmp_path) == []
    preview = get(client, plain_world, "manager",
                  f"/api/v1/visits/{plain_world['audit']}/report.html")
    body = preview.get_data(as_text=True)
    assert preview.mimetype == "text/html"
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]
    assert "&lt;img src=file:///etc/passwd&gt;" in body and "<script>alert" not in body
    assert _Counting.hits == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=", "static:../../../../etc/passwd", "static:/etc/passwd",
    "photo:not-in-this-report/display", "ftp://127.0.0.1/x",
])
def test_restricted_fetcher_refuses_everything_but_our_files(app, url):
    def photos(photo_id, size):
        raise ValueError(f"photo {photo_id} is not part of this report")

    fetcher = RestrictedFetcher(photos, app.static_folder)
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.fetch("static:css/reports.css").read().startswith(b"/*")


def test_store_actions_never_reveal_a_mystery_visit_under_review(app, make_store, make_user,
                                                                   make_visit):
    """An action raised on a submitted mystery visit stays out of reports until it is published."""
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from supervision.followup.models import Action
    from supervision.reports.period import Period, action_rows
    from supervision.visits.models import Visit

    store = make_store()
    visit_id = make_visit(store, make_user("shopper"), slug="mystery-visit", status="submitted")
    with app.app_context():
        db.session.add(Action(store_id=store.id, visit_id=visit_id, title="补录争议记录单",
                              status="agreed"))
        db.session.commit()
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the period's own days
        period = Period(date(today.year - 1, 1, 1), today, "Asia/Shanghai")
        assert action_rows([store.id], period, datetime.now(UTC), "zh") == []
        db.session.get(Visit, visit_id).status = "published"
        db.session.commit()
        assert [a["title"] for a in action_rows([store.id], period, datetime.now(UTC), "zh")] == [
            "补录争议记录单"]
