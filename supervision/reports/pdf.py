"""HTML → PDF with WeasyPrint (the only module that imports it), fetching only our own files."""

import logging
import mimetypes
from collections.abc import Callable
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# `photo:<photo id>/<size>` names a stored photo derivative; `static:<path>` a file of the app's
# static folder. Nothing else is ever fetched: no network, no file path, no data: URL.
PHOTO_SCHEME = "photo:"
STATIC_SCHEME = "static:"
PhotoLoader = Callable[[str, str], tuple[bytes, str]]
Progress = Callable[[int], None]

logger = logging.getLogger(__name__)


class RestrictedFetcher(URLFetcher):
    """Serves `photo:` and `static:` URLs from our own storage; refuses everything else."""

    def __init__(self, photos: PhotoLoader, static_folder: str | Path):
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self._photos = photos
        self._static = Path(static_folder).resolve()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(PHOTO_SCHEME):
            photo_id, _, size = url[len(PHOTO_SCHEME):].partition("/")
            body, content_type = self._photos(photo_id, size)
            return URLFetcherResponse(url, body, {"Content-Type": content_type})
        if url.startswith(STATIC_SCHEME):
            return self._static_file(url)
        self.refused.append(url)
        raise ValueError(f"Reports fetch only photo: and static: URLs, not {url[:80]!r}.")

    def _static_file(self, url: str) -> URLFetcherResponse:
        path = (self._static / url[len(STATIC_SCHEME):].lstrip("/")).resolve()
        if not path.is_file() or not path.is_relative_to(self._static):
            self.refused.append(url)
            raise ValueError(f"No such static file: {url[:80]!r}.")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def render_pdf(html: str, fetcher: RestrictedFetcher, progress: Progress | None = None) -> bytes:
    """The PDF of `html`; photos come through `fetcher` and are embedded as stored (no
    re-encoding: the display derivative is already sized for print)."""
    step = progress or (lambda _percent: None)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    rendered = document.render(font_config=FontConfiguration(), optimize_images=False)
    step(80)
    pdf = rendered.write_pdf()
    step(100)
    if fetcher.refused:
        logger.warning("report rendering refused %d URL(s)", len(fetcher.refused))
    return pdf
