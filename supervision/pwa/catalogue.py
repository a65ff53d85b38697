"""The JS strings of a language, read from the same gettext catalogue as the templates use."""

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from flask import current_app


def js_catalogue(lang: str) -> dict[str, str]:
    """{English source: translation} for every message used under static/ (English: empty)."""
    path = Path(current_app.root_path, "translations", lang, "LC_MESSAGES", "messages.po")
    if not path.exists():
        return {}
    return _read(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _read(path: str, _mtime: int) -> dict[str, str]:
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    return {
        message.id: message.string
        for message in catalog
        if message.id and message.string and not message.fuzzy
        and any(location.startswith("static/") for location, _line in message.locations)
    }
