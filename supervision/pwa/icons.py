"""Draw the app icons with Pillow: `python -m supervision.pwa.icons` writes static/icons/*.png."""

from pathlib import Path

from PIL import Image, ImageDraw

TEAL = (15, 92, 110)
TEAL_LIGHT = (32, 128, 145)
WHITE = (255, 255, 255)
AMBER = (245, 178, 60)
OUT = Path(__file__).resolve().parents[2] / "static" / "icons"


def _glyph(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float]) -> None:
    """A clipboard with a check mark, drawn inside `box` (left, top, right, bottom)."""
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    board = (left + w * 0.14, top + h * 0.1, right - w * 0.14, bottom)
    draw.rounded_rectangle(board, radius=w * 0.09, fill=WHITE)
    clip = (left + w * 0.34, top, right - w * 0.34, top + h * 0.2)
    draw.rounded_rectangle(clip, radius=w * 0.05, fill=AMBER)
    points = [(left + w * 0.3, top + h * 0.58), (left + w * 0.45, top + h * 0.73),
              (left + w * 0.72, top + h * 0.42)]
    draw.line(points, fill=TEAL, width=max(2, int(w * 0.09)), joint="curve")


def draw_icon(size: int, maskable: bool = False) -> Image.Image:
    """Maskable icons fill the square and keep the glyph inside the 80 % safe zone."""
    scale = 4  # draw large, then shrink: smooth edges without an anti-aliasing library
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=TEAL)
        margin = big * 0.27
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=TEAL)
        draw.ellipse((-big * 0.3, big * 0.55, big * 1.3, big * 1.6), fill=TEAL_LIGHT)
        margin = big * 0.2
    _glyph(draw, (margin, margin, big - margin, big - margin))
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw_icon(size).save(OUT / f"icon-{size}.png", optimize=True)
    draw_icon(512, maskable=True).save(OUT / "icon-512-maskable.png", optimize=True)
    draw_icon(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    draw_icon(48).save(OUT / "favicon.png", optimize=True)


if __name__ == "__main__":
    main()
