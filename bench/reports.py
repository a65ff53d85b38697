"""Report rendering bench: our endpoints against a raw WeasyPrint render of the same HTML.

Run: .venv/bin/python bench/reports.py  (about two minutes; a throwaway SQLite app in /tmp)

Measures, in one run:
- a visit report with 12 photos taken from 12-megapixel originals;
- a region report of 50 stores with 4 visits each;
each as the median time of our endpoint through the test client (cache emptied before every
request, so every one renders), the median of a raw WeasyPrint render of the same HTML with
the same image bytes, their ratio, the PDF size and the peak memory; and the time to serve a
report already in the cache. Targets (2-core machine) are printed beside each figure.
"""

import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402  (the raw baseline; the app itself imports it only in reports/pdf.py)
from pypdf import PdfReader  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from supervision import create_app, tasks  # noqa: E402
from supervision.accounts.models import User  # noqa: E402
from supervision.accounts.tokens import issue_token  # noqa: E402
from supervision.checklists.services import add_version  # noqa: E402
from supervision.db import db  # noqa: E402
from supervision.reports import services  # noqa: E402
from supervision.reports.context import visit_context  # noqa: E402
from supervision.reports.summaries import region_context  # noqa: E402
from supervision.storage import get_storage  # noqa: E402
from supervision.stores.models import Region, Store  # noqa: E402
from supervision.visits import photos as pipeline  # noqa: E402
from supervision.visits.models import Visit  # noqa: E402
from tests.images import picture  # noqa: E402
from tests.report_data import (  # noqa: E402
    DELIGHTERS,
    HISTORY_MISSES,
    PHOTO,
    SHANGHAI,
    add_visit,
    local,
)

RUNS = 7
CACHED_RUNS = 20
PHOTO_ITEMS = ["img_signage_clean", "img_no_expired_posters", "img_uniform_badge",
               "img_hall_clean", "inf_feedback_book", "sal_demo_devices"]
CPU_TIMES: list[tuple[float, float]] = []  # (ours, raw) per interleaved measurement
TARGETS = {"visit_s": 1.0, "ratio": 1.2, "visit_mb": 3.0, "region_s": 3.0, "cached_ms": 50}


class MemoryFetcher(URLFetcher):
    """The raw baseline's fetcher: the same image bytes, from memory."""

    def __init__(self, images: dict[str, bytes]):
        super().__init__()
        self.images = images

    def fetch(self, url, headers=None):
        return URLFetcherResponse(url, self.images[url], {"Content-Type": "image/jpeg"})


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "PHOTO_DIR": str(workdir / "photos"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
        })
        with app.app_context():
            db.create_all()
            for path in sorted((ROOT / "checklists").glob("*.yaml")):
                add_version(path.read_text(encoding="utf-8"), path.name)
            db.session.commit()
            print("building the data (12 photos of 12 MP, 50 stores × 4 visits)…", flush=True)
            world = build(app)
        results = measure(app, world)
        report(results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build(app) -> dict:
    region = Region(code="BENCH", name="基准区", name_en="Bench")
    stores = [Store(code=f"B{n:03d}", name=f"基准第{n}营业厅", name_en=f"Bench store {n}",
                    manager_name="王丽", region=region) for n in range(1, 51)]
    supervisor = User(email="sup@example.com", name="陈督导", role="supervisor", regions=[region])
    manager = User(email="mgr@example.com", name="周经理", role="manager", regions=[region])
    shopper = User(email="shop@example.com", name="林暗访", role="shopper", regions=[region])
    for user in (supervisor, manager, shopper):
        user.set_password("bench-pw")
    db.session.add_all([region, *stores, supervisor, manager, shopper])
    db.session.commit()
    today = datetime.now(SHANGHAI).date()
    photos = {item: [] for item in PHOTO_ITEMS}
    for n in range(12):
        photos[PHOTO_ITEMS[n % len(PHOTO_ITEMS)]].append(picture(4000, 3000, seed=100 + n, **PHOTO))
    visit_id = add_visit(app, stores[0].id, supervisor.id, "storefront-audit",
                         local(today - timedelta(days=1), "10:00:00"),
                         {"img_no_expired_posters": False, "svc_greeting_10s": False},
                         notes={"img_no_expired_posters": "入口玻璃门上仍贴着过期海报。"},
                         photos=photos)
    rnd = random.Random(7)
    for store in stores:
        for n in range(4):
            misses = {item: False for item in rnd.sample(HISTORY_MISSES, 3)}
            misses |= {item: rnd.random() < 0.3 for item in DELIGHTERS}
            if rnd.random() < 0.03:
                misses["svc_red_argue_mock"] = True
            started = local(today - timedelta(days=5 + 20 * n), "09:30:00")
            add_visit(app, store.id, supervisor.id, "storefront-audit", started, misses)
    return {"visit": visit_id, "region": region.id, "manager": issue_token(manager)}


def measure(app, world) -> dict:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world['manager']}"}
    visit_url = f"/api/v1/visits/{world['visit']}/report.pdf?lang=zh"
    region_url = f"/api/v1/regions/{world['region']}/report.pdf?lang=zh"
    html, images = raw_inputs(app, world)

    results = {}
    # Ours and raw alternate, so that both see the same load on a shared machine.
    (results["visit_ours"], visit_pdf), (results["visit_raw"], raw_pdf) = interleaved(
        lambda: fresh_get(app, client, visit_url, headers),
        lambda: raw_render(html["visit"], images))
    results["visit_mb"] = len(visit_pdf) / 1e6
    results["visit_raw_mb"] = len(raw_pdf) / 1e6
    results["visit_images"] = count_images(visit_pdf)
    client.get(visit_url, headers=headers)
    results["cached"], _ = timed(lambda: client.get(visit_url, headers=headers).data,
                                 runs=CACHED_RUNS)
    (results["region_ours"], region_pdf), (results["region_raw"], _) = interleaved(
        lambda: fresh_region(app, client, region_url, headers),
        lambda: raw_render(html["region"], {}), runs=3)
    results["region_mb"] = len(region_pdf) / 1e6
    results["visit_mem"] = python_peak(lambda: fresh_get(app, client, visit_url, headers))
    results["region_mem"] = python_peak(lambda: fresh_region(app, client, region_url, headers))
    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def raw_inputs(app, world) -> tuple[dict, dict]:
    """The exact HTML our renderer gives WeasyPrint, and the display bytes of its photos."""
    with app.app_context(), app.test_request_context():
        visit = db.session.get(Visit, world["visit"])
        context = visit_context(visit, "zh", "store")
        storage = get_storage()
        images = {}
        for ref in context["photos"]:
            with storage.open(pipeline.derived_key(ref["hash"], "display", None)) as stored:
                images[f"photo:{ref['id']}/display"] = stored.read()
        region = db.session.get(Region, world["region"])
        summary = region_context(region, None, None, "zh", datetime.now(UTC))
        html = {"visit": services.render_html("visit", context, "pdf"),
                "region": services.render_html("region", summary, "pdf")}
    return html, images


def raw_render(html: str, images: dict[str, bytes]) -> bytes:
    return weasyprint.HTML(string=html, url_fetcher=MemoryFetcher(images)).write_pdf()


def empty_cache(app) -> None:
    shutil.rmtree(Path(app.config["PHOTO_DIR"], "reports"), ignore_errors=True)


def fresh_get(app, client, url, headers) -> bytes:
    empty_cache(app)
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.data


def fresh_region(app, client, url, headers) -> bytes:
    """Ask, wait for the job, fetch the PDF from the same link: what a manager's client does."""
    empty_cache(app)
    assert client.get(url, headers=headers).status_code == 202
    tasks.drain()
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.data


def timed(action, runs: int = RUNS) -> tuple[float, bytes]:
    durations, result = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), result


def interleaved(ours, raw, runs: int = RUNS) -> tuple[tuple[float, bytes], tuple[float, bytes]]:
    """Median wall time and last result of each, run alternately. The median CPU time of each
    is kept in CPU_TIMES: on a shared machine it shows the work apart from waiting for a core."""
    times: dict = {ours: [], raw: []}
    cpu: dict = {ours: [], raw: []}
    results: dict = {}
    for _ in range(runs):
        for action in (ours, raw):
            start, start_cpu = time.perf_counter(), time.process_time()
            results[action] = action()
            times[action].append(time.perf_counter() - start)
            cpu[action].append(time.process_time() - start_cpu)
    CPU_TIMES.append((statistics.median(cpu[ours]), statistics.median(cpu[raw])))
    return ((statistics.median(times[ours]), results[ours]),
            (statistics.median(times[raw]), results[raw]))


def python_peak(action) -> float:
    """Peak of Python allocations during one render, in MB (C libraries not included)."""
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def count_images(pdf: bytes) -> int:
    """Distinct image objects in the PDF (a photo shown twice is embedded once)."""
    refs = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            if ref.get_object()["/Subtype"] == "/Image":
                refs.add(ref.idnum)
    return len(refs)


def report(r: dict) -> None:
    ratio = r["visit_ours"] / r["visit_raw"]
    ok = {
        "visit": r["visit_ours"] <= TARGETS["visit_s"], "ratio": ratio <= TARGETS["ratio"],
        "size": r["visit_mb"] <= TARGETS["visit_mb"], "images": r["visit_images"] == 12,
        "cached": r["cached"] * 1000 <= TARGETS["cached_ms"],
        "region": r["region_ours"] <= TARGETS["region_s"],
    }
    rows = [
        ("visit report, 12 photos: our endpoint", f"{r['visit_ours']:.3f} s", ok["visit"],
         "≤ 1.0 s"),
        ("visit report: raw WeasyPrint, same HTML and images", f"{r['visit_raw']:.3f} s", None,
         ""),
        ("visit report: ratio ours / raw", f"{ratio:.2f}", ok["ratio"], "≤ 1.2"),
        ("visit report: CPU time ours / raw", f"{CPU_TIMES[0][0]:.3f} / {CPU_TIMES[0][1]:.3f} s",
         None, ""),
        ("visit report: PDF size (ours / raw)",
         f"{r['visit_mb']:.2f} / {r['visit_raw_mb']:.2f} MB", ok["size"], "≤ 3 MB"),
        ("visit report: images embedded", str(r["visit_images"]), ok["images"], "12"),
        ("visit report: peak Python memory of one render", f"{r['visit_mem']:.1f} MB", None, ""),
        ("cached visit report served", f"{r['cached'] * 1000:.1f} ms", ok["cached"], "≤ 50 ms"),
        ("region report, 50 stores × 4 visits: our endpoint (job)", f"{r['region_ours']:.3f} s",
         ok["region"], "≤ 3 s"),
        ("region report: raw WeasyPrint, same HTML", f"{r['region_raw']:.3f} s", None, ""),
        ("region report: ratio ours / raw", f"{r['region_ours'] / r['region_raw']:.2f}", None,
         ""),
        ("region report: CPU time ours / raw",
         f"{CPU_TIMES[1][0]:.3f} / {CPU_TIMES[1][1]:.3f} s", None, ""),
        ("region report: PDF size", f"{r['region_mb']:.2f} MB", None, ""),
        ("region report: peak Python memory of one render", f"{r['region_mem']:.1f} MB", None,
         ""),
        ("peak RSS of the whole bench process", f"{r['rss_mb']:.0f} MB", None, ""),
    ]
    width = max(len(name) for name, *_ in rows)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (times stretch when "
          "other work shares the machine)")
    for name, value, ok, target in rows:
        verdict = "" if ok is None else ("ok  " if ok else "MISS")
        print(f"{name:<{width}}  {value:>18}  {verdict} {target}")


if __name__ == "__main__":
    main()
