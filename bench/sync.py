"""Photo bytes and the time to sync a 10-photo visit over a weak uplink, old encoding and new.

    .venv/bin/python bench/sync.py [--photos 10] [--up-mbit 4] [--latency-ms 150]

A live server on loopback (a throwaway SQLite file, the shipped checklists, the demo data, as
the browser tests start it) and Debian's Chromium through Playwright (never a downloaded one).
For each encoding — the old one (2000 px, JPEG quality 0.85, set through localStorage
"photo-encoding") and the app's own (static/js/photos.js) — a supervisor captures a storefront
audit with `--photos` camera photos of a poster and a price board (12 MP, 1.2 MB at the old
encoding: tests/test_photo_bytes_browser.py, poster_photo), submits it, and the outbox syncs it
over a link emulated by Chromium (Network.emulateNetworkConditions: `--up-mbit` up and down,
`--latency-ms`). Printed: bytes per photo as received by the server, the sync time (from the
visit's first request to its last answer), and the floor: the very same received bytes PUT one
after the other from a page over the same emulated link to a sink that only reads them. The
photos as sent, crops of their small text and the visit PDFs go to test-output/photo-bytes/.
"""

import argparse
import http.server
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from supervision import create_app  # noqa: E402
from supervision.db import db  # noqa: E402
from tests.browser_fixtures import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    LiveServer,
    _load_and_seed,
    answer_item,
    best,
    checklist,
    login,
    wait_for_script,
)
from tests.test_photo_bytes_browser import poster_photo  # noqa: E402
from tests.test_pwa_browser import submit_audit_sign_later  # noqa: E402

OUT = ROOT / "test-output" / "photo-bytes"
OLD = {"edge": 2000, "quality": 0.85}
PHOTO_ITEMS = ("img_signage_clean", "img_no_expired_posters")  # the audit's required photos
# Where the small text is, as fractions of the photo: the poster's date and fine print, and
# the price board's rows (48 px in the 4000 px photo) and their 30 px fine print.
CROPS = {"poster-date": (0.075, 0.21, 0.43, 0.5), "price-board": (0.5, 0.165, 0.94, 0.45)}
DEADLINE_MS = 600_000


def start_server(folder: Path) -> tuple[LiveServer, object]:
    app = create_app({
        "SECRET_KEY": "bench-sync", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
        "PHOTO_DIR": str(folder / "photos"), "LOGIN_RATE_LIMIT": "10000 per minute",
        "DEMO_PASSWORD": DEMO_PASSWORD, "TASK_MODE": "thread",  # the default: as deployed
    })
    _load_and_seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveServer(f"http://127.0.0.1:{server.server_port}", app), server


class Sink(http.server.BaseHTTPRequestHandler):
    """The floor's other end: serves a blank page and the blobs, reads a PUT body, answers 204."""
    blobs: list[bytes] = []

    def do_GET(self):
        body = b"<!doctype html><title>sink</title>"
        kind = "text/html"
        if self.path.startswith("/blob/"):
            body, kind = self.blobs[int(self.path.rsplit("/", 1)[1])], "image/jpeg"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def throttle(page, up_mbit: float, latency_ms: float):
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    rate = up_mbit * 1e6 / 8  # bytes a second
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency_ms, "downloadThroughput": rate,
        "uploadThroughput": rate})
    return session


def capture_and_sync(browser, live: LiveServer, files: list[Path], encoding: dict | None,
                     args) -> tuple[str, dict]:
    """A storefront audit with the photos, submitted and synced over the emulated link:
    (visit id, {sync: seconds from the visit's first request to its last answer, photos: from
    the first photo request to the last photo answer, failed: requests that did not finish})."""
    context = browser.new_context(base_url=live.url, viewport={"width": 1024, "height": 768},
                                  locale="zh-CN", service_workers="block")
    context.set_default_timeout(DEADLINE_MS)
    page = context.new_page()
    login(page, "supervisor@example.com")
    if encoding:
        page.evaluate(f"localStorage.setItem('photo-encoding', '{encoding_json(encoding)}')")
    page.click("#start-audit")
    page.click("[data-store=SH001]")
    page.wait_for_url("**/audit?visit=*")
    visit_id = page.url.split("visit=")[1].split("#")[0]
    definition = checklist(live, "storefront-audit")
    share = [files[0::2], files[1::2]]  # the photos split between the two photo items
    for section in definition["sections"]:
        page.wait_for_selector(f"section[aria-label='{section['title']['zh']}'], .empty")
        for item in section["items"]:
            if not page.locator(f"#item-{item['id']}").count():
                continue
            answer_item(page, item, best(item), None)
            if item["id"] in PHOTO_ITEMS:
                for path in share[PHOTO_ITEMS.index(item["id"])]:
                    page.set_input_files(f"#photo-{item['id']}", str(path))
                count = f"document.querySelectorAll('#item-{item['id']} .thumb').length"
                wanted = len(share[PHOTO_ITEMS.index(item["id"])])
                wait_for_script(page, f"{count} >= {wanted}", "the photos")
        page.click("#next-section")
    page.wait_for_selector("#submit-visit:not([disabled])")
    spans = {}  # request → [start, end]; a failed one keeps end None

    def seen(request, event):
        if f"/api/v1/visits/{visit_id}" not in request.url:
            return
        now = time.monotonic()
        span = spans.setdefault(request, [now, None])
        if event == "finished":
            span[1] = now
        if args.verbose:
            begin = min(start for start, _ in spans.values())
            print(f"  {now - begin:6.2f} s {event:<8} {request.method} "
                  f"{request.url.split(visit_id)[-1][:48]}", flush=True)

    page.on("request", lambda r: seen(r, "sent"))
    page.on("requestfinished", lambda r: seen(r, "finished"))
    page.on("requestfailed", lambda r: seen(r, "failed"))
    throttle(page, args.up_mbit, args.latency_ms)
    submit_audit_sign_later(page)
    page.wait_for_selector("#outbox-empty", timeout=DEADLINE_MS)
    context.close()
    photos = [span for request, span in spans.items() if "/photos/" in request.url]
    ends = [end for _, end in spans.values() if end is not None]
    return visit_id, {
        "sync": max(ends) - min(start for start, _ in spans.values()),
        "photos": max(end for _, end in photos if end) - min(start for start, _ in photos),
        "failed": sum(1 for _, end in spans.values() if end is None)}


def encoding_json(encoding: dict) -> str:
    return f'{{"edge": {encoding["edge"]}, "quality": {encoding["quality"]}}}'


def received(live: LiveServer, visit_id: str) -> list[bytes]:
    """The bytes the server received for the visit's photos, as they came (originals/)."""
    from supervision.visits import photos as pipeline
    from supervision.visits.models import Photo

    with live.app.app_context():
        hashes = db.session.scalars(select(Photo.content_hash).where(
            Photo.visit_id == uuid.UUID(visit_id)).order_by(Photo.taken_at))
        folder = Path(live.app.config["PHOTO_DIR"])
        return [(folder / pipeline.original_key(h)).read_bytes() for h in hashes]


def floor(browser, blobs: list[bytes], args) -> float:
    """Seconds to PUT the same bytes one after the other over the same emulated link."""
    Sink.blobs = blobs
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{sink.server_port}/")
    page.evaluate("""async (n) => { window.blobs = [];
        for (let i = 0; i < n; i++) {
          window.blobs.push(await (await fetch(`/blob/${i}`)).blob());
        } }""", len(blobs))
    throttle(page, args.up_mbit, args.latency_ms)
    ms = page.evaluate("""async () => { const start = performance.now();
        for (const blob of window.blobs) {
          const headers = { 'Content-Type': 'image/jpeg' };
          await fetch('/sink', { method: 'PUT', body: blob, headers });
        }
        return performance.now() - start; }""")
    context.close()
    sink.shutdown()
    return ms / 1000


def show(name: str, sent: bytes) -> None:
    """The photo as sent and crops of its small text, at 1:1, for a person to look at."""
    (OUT / f"{name}.jpg").write_bytes(sent)
    image = Image.open(OUT / f"{name}.jpg")
    for crop, (left, top, right, bottom) in CROPS.items():
        box = (round(left * image.width), round(top * image.height),
               round(right * image.width), round(bottom * image.height))
        image.crop(box).save(OUT / f"{name}-{crop}.png")


def report_images(live: LiveServer, visit_id: str, name: str) -> list[int]:
    """The visit PDF (zh) written out; the bytes of each photo embedded in it (pdfimages)."""
    with live.app.test_request_context():
        answer = live.api("GET", f"/api/v1/visits/{visit_id}/report.pdf?lang=zh",
                          "admin@example.com")
    pdf = OUT / f"report-{name}.pdf"
    pdf.write_bytes(answer.data)
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    sizes = []
    for line in listing:
        fields = line.split()
        if fields[2] == "image" and int(fields[3]) >= 1000:  # the photos, not the signature
            value, unit = float(fields[-2][:-1]), fields[-2][-1]
            sizes.append(round(value * {"K": 1024, "M": 1024 * 1024, "B": 1}[unit]))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--up-mbit", type=float, default=4.0)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--verbose", action="store_true", help="each request of the sync")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        live, server = start_server(folder)
        taken = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{args.photos} camera photos (4000×3000, JPEG q92) of a poster and a price board; "
              f"link {args.up_mbit:g} Mbit/s, {args.latency_ms:g} ms", flush=True)
        files = []
        for seed in range(args.photos):
            path = folder / f"poster-{seed}.jpg"
            path.write_bytes(poster_photo(seed=seed))
            files.append(path)
        (OUT / "camera-original.jpg").write_bytes(files[0].read_bytes())
        print(f"camera originals: {statistics.mean(f.stat().st_size for f in files) / 1e6:.2f} MB "
              f"a photo (generated {taken})", flush=True)
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, encoding in (("old", OLD), ("new", None)):
                visit_id, times = capture_and_sync(browser, live, files, encoding, args)
                blobs = received(live, visit_id)
                assert len(blobs) == args.photos, len(blobs)
                floor_s = floor(browser, blobs, args)
                show(name, blobs[0])
                embedded = report_images(live, visit_id, name)
                per_photo = statistics.mean(len(b) for b in blobs)
                results[name] = (per_photo, times["sync"], times["photos"], floor_s)
                width, height = Image.open(OUT / f"{name}.jpg").size
                wire = sum(map(len, blobs)) * 8 / (args.up_mbit * 1e6)
                print(f"{name}: {'old 2000 px, q0.85' if encoding else 'the app (photos.js)'}, "
                      f"{width}×{height}: {per_photo / 1e3:.0f} KB a photo; "
                      f"report PDF {statistics.mean(embedded) / 1e3:.0f} KB a photo "
                      f"({len(embedded)} embedded)\n"
                      f"  sync {times['sync']:.1f} s (photos {times['photos']:.1f} s, "
                      f"{times['failed']} request(s) cut off and sent again); floor: the same "
                      f"bytes PUT bare {floor_s:.1f} s (bytes/rate alone {wire:.1f} s); "
                      f"sync/floor {times['sync'] / floor_s:.2f}, "
                      f"photos/floor {times['photos'] / floor_s:.2f}", flush=True)
            browser.close()
        server.shutdown()
    old, new = results["old"], results["new"]
    print("new/old: " + ", ".join(f"{what} {n / o:.2f}" for what, n, o in zip(
        ("bytes", "sync", "photos", "floor"), new, old, strict=True)))
    print(f"photos, crops of their small text and the PDFs: {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
