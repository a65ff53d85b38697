"""Fewer bytes, same evidence: a camera-sized photo of small text goes through the app's
capture and reaches the server at half the old bytes or less, with the camera's time (EXIF
DateTimeOriginal, read before the shrink) and the device's location.

`poster_photo` is also the test photo of bench/sync.py and of the choice of size and quality
(docs/performance.md, "Photo bytes")."""

import io
import random
import re
from datetime import UTC, datetime

import pytest
from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont

from tests.browser_fixtures import checklist, login, new_page, wait_outbox_empty, walk_sections
from tests.test_pwa_browser import submit_audit_sign_later

pytestmark = pytest.mark.browser

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OLD_BYTES = 1_227_432  # this photo at the old 2000 px, quality 0.85, in Chromium (bench/sync.py)
PRICES = [("5G 畅享套餐 Unlimited 5G", "128元/月"), ("家庭融合 Family bundle 2+1", "199元/月"),
          ("流量加油包 Data top-up 10GB", "30元"), ("宽带 500M Broadband", "88元/月"),
          ("iPhone 16 128GB 合约价", "4,999元"), ("华为 Mate 70 Pro 直降", "5,499元"),
          ("国际漫游 Roaming day pass", "25元/天"), ("亲情号 Family number", "10元/月")]


def poster_photo(width=4000, height=3000, date="2026-11-30", seed=0, taken=None,
                 offset="+08:00") -> bytes:
    """A phone camera's JPEG (12 MP, quality 92) of a shop wall: a poster with its end date
    and fine print, a price board of 48 px rows and 30 px fine print in Chinese and Latin, a
    counter; lens blur and sensor noise, so that it compresses as a camera photo does (1.2 MB
    at the old 2000 px, quality 0.85). `taken` (a naive local time) goes into the EXIF
    DateTimeOriginal, with `offset` as OffsetTimeOriginal."""
    size, u, rnd = (width, height), width / 4000, random.Random(seed)
    wall = Image.merge("RGB", (
        Image.linear_gradient("L").rotate(90).resize(size).point(lambda v: 150 + v // 4),
        Image.linear_gradient("L").resize(size).point(lambda v: 140 + v // 5),
        Image.radial_gradient("L").resize(size).point(lambda v: 120 + v // 5)))
    draw = ImageDraw.Draw(wall)

    def font(px):
        return ImageFont.truetype(CJK_FONT, max(8, round(px * u)))

    x0, y0, x1, y1 = 300 * u, 300 * u, 1700 * u, 2600 * u  # the poster
    draw.rectangle([x0, y0, x1, y1], fill=(245, 242, 235))
    draw.rectangle([x0, y0, x1, y0 + 500 * u], fill=(200, 30, 40))
    draw.text((x0 + 60 * u, y0 + 120 * u), "双十一 特惠", font=font(200), fill="white")
    draw.text((x0 + 60 * u, y0 + 620 * u), "活动截止 Offer ends", font=font(70), fill=(40, 40, 40))
    draw.text((x0 + 60 * u, y0 + 720 * u), date, font=font(110), fill=(200, 30, 40))
    for n in range(8):
        line = f"细则 {n + 1}: 本优惠仅限新入网用户 New customers only, ID required — 截止 {date}"
        draw.text((x0 + 60 * u, y0 + (950 + 70 * n) * u), line, font=font(34), fill=(60, 60, 60))
    bx0, by0, bx1, by1 = 2000 * u, 500 * u, 3750 * u, 2500 * u  # the price board
    draw.rectangle([bx0, by0, bx1, by1], fill=(30, 45, 40))
    gold = (250, 220, 120)
    draw.text((bx0 + 50 * u, by0 + 40 * u), "价目表 PRICE LIST", font=font(90), fill=gold)
    for n, (name, price) in enumerate(PRICES):
        y = by0 + (220 + 150 * n) * u
        draw.text((bx0 + 50 * u, y), name, font=font(48), fill=(235, 235, 235))
        draw.text((bx1 - 330 * u, y), price, font=font(48), fill=gold)
        line = f"有效期至 valid to {date} · 编号 No. {1000 + 37 * n}"
        draw.text((bx0 + 50 * u, y + 62 * u), line, font=font(30), fill=(170, 180, 175))
    draw.rectangle([0, 2700 * u, width, height], fill=(110, 80, 60))  # the counter and its clutter
    for _ in range(30):
        x, y = rnd.randrange(width), rnd.randrange(int(2700 * u), height)
        draw.ellipse([x, y, x + rnd.randrange(40, 300) * u, y + rnd.randrange(20, 120) * u],
                     fill=tuple(rnd.randrange(40, 220) for _ in range(3)))
    # The camera: lens blur, then sensor noise at the pixel and at three pixels.
    wall = wall.filter(ImageFilter.GaussianBlur(1.6 * u))
    fine = Image.merge("RGB", [Image.effect_noise(size, 80) for _ in range(3)])
    coarse = Image.merge("RGB", [Image.effect_noise((width // 3, height // 3), 80)
                                 .resize(size, Image.Resampling.BICUBIC) for _ in range(3)])
    wall = Image.blend(Image.blend(wall, fine, 0.25), coarse, 0.25)
    keep = 0.75 ** 2  # the share of the scene left after the two blends: stretch it back
    wall = wall.point(lambda v: min(255, max(0, int((v - 128 * (1 - keep)) / keep))))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if taken is not None:
        camera = exif.get_ifd(ExifTags.IFD.Exif)
        camera[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            camera[ExifTags.Base.OffsetTimeOriginal] = offset
    out = io.BytesIO()
    wall.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


SHANGHAI = (31.2304, 121.4737)


def test_a_camera_photo_of_small_text_is_sent_at_half_the_bytes_with_its_time_and_place(
        browser, live_server, tmp_path):
    taken = datetime(2026, 11, 30, 9, 15, 42)  # the camera's clock, in Shanghai (+08:00)
    path = tmp_path / "price-board.jpg"
    path.write_bytes(poster_photo(taken=taken))
    context, page = new_page(browser, live_server, "phone", "zh")
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": SHANGHAI[0], "longitude": SHANGHAI[1], "accuracy": 12})
    login(page, "supervisor@example.com")
    page.click("#start-audit")
    page.click("[data-store=SH001]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    walk_sections(page, checklist(live_server, "storefront-audit"), {}, [str(path)])
    page.wait_for_selector("#submit-visit:not([disabled])")
    submit_audit_sign_later(page)
    wait_outbox_empty(page)

    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["missing_photos"] == [] and server["photos"]
    for photo in server["photos"]:
        assert photo["size_bytes"] <= OLD_BYTES / 2, photo  # half the old bytes or less
        assert max(photo["width"], photo["height"]) == 1600
        assert datetime.fromisoformat(photo["taken_at"]) == datetime(2026, 11, 30, 1, 15, 42,
                                                                      tzinfo=UTC)
        location = photo["location"]
        assert (location["lat"], location["lon"]) == pytest.approx(SHANGHAI)
        assert location["accuracy_m"] == pytest.approx(12)
    assert page.errors == []
    context.close()


def test_without_a_location_or_an_exif_date_the_capture_does_not_wait(browser, live_server):
    """No geolocation permission (a prompt nobody answers): the facts come within about 2 s,
    without a location; a file without EXIF, or with a damaged block, keeps its file time."""
    context, page = new_page(browser, live_server, "phone", "en")
    page.goto("/login")
    plain = poster_photo(800, 600)
    dated = poster_photo(800, 600, taken=datetime(2025, 6, 1, 12, 0, 0), offset="-05:00")
    damaged = dated[:30] + b"\xff" * 40 + dated[70:]  # inside the EXIF block
    facts = page.evaluate("""async ([files, modified]) => {
        const { photoFacts } = await import('/static/js/photos.js');
        const results = [];
        for (const bytes of files) {
          const file = new File([new Uint8Array(bytes)], 'p.jpg', { type: 'image/jpeg',
            lastModified: modified });
          const start = performance.now();
          const facts = await photoFacts(file);
          results.push({ ...facts, ms: performance.now() - start });
        }
        return results;
    }""", [[list(plain), list(dated), list(damaged)], 1764547200000])
    file_time = datetime.fromtimestamp(1764547200, UTC)
    assert [datetime.fromisoformat(f["taken_at"].replace("Z", "+00:00")) for f in facts] == [
        file_time, datetime(2025, 6, 1, 17, 0, 0, tzinfo=UTC), file_time]
    # Unanswered, the prompt would hold the capture for ever; photos.js gives up after 2 s (the
    # rest of the bound is for a busy machine).
    assert all(f["location"] is None and f["ms"] < 2000 + 5000 for f in facts), facts
    assert page.errors == []
    context.close()
