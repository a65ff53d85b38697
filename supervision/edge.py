"""What every request is checked for before a view sees it: a JSON body that parses, at most
32 levels deep, with printable text in its strings; printable text in query strings, forms and
file names; ids in URL paths that an `integer` column holds. Each refusal is the one error
shape, naming the field; the schemas then check what each field means."""

import json
import math
from contextlib import nullcontext

from flask import Flask, request
from flask_babel import force_locale, gettext
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from supervision.errors import DomainError, Invalid, wants_html
from supervision.schemas import INT_MAX, NOT_TEXT, TEXT_PATTERN, bad_character, text_problems

MAX_DEPTH = 32  # no document of ours is deeper than about 6
FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a number an `integer` column holds; a larger one names nothing."""

    def __init__(self, url_map, *args, max=INT_MAX, **kwargs):
        super().__init__(url_map, *args, max=max, **kwargs)


class TextConverter(UnicodeConverter):
    """A path segment (`<slug>`, `<string:...>`) of printable text; any other names nothing."""

    def to_python(self, value: str) -> str:
        if bad_character(value):
            raise ValidationError()
        return value


def init_app(app: Flask) -> None:
    """Once the Api is set up and before any blueprint is: the routes use these converters."""
    from supervision.extensions import api

    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
    # The plugins of this app's document (api.register_converter would keep it for every app).
    api.flask_plugin.register_converter(TextConverter, lambda converter: {
        "type": "string", "minLength": 1, "pattern": TEXT_PATTERN})
    api.ma_plugin.converter.add_attribute_function(printable_pattern)
    app.before_request(check_request)


def printable_pattern(self, field, ret: dict, **kwargs) -> dict:
    """The OpenAPI document states the rule of every free text field: printable text."""
    if ret.get("type") == "string" and not {"pattern", "format", "enum"} & ret.keys():
        return {"pattern": TEXT_PATTERN}
    return {}


def check_request() -> None:
    _check_json()
    _check_fields("query", request.args.items(multi=True))
    if request.mimetype in FORMS:
        _check_fields("form", request.form.items(multi=True))
        _check_fields("files", ((name, upload.filename or "")
                                for name, upload in request.files.items(multi=True)))


def _check_json() -> None:
    if not request.is_json or not (data := request.get_data(cache=True)).strip():
        return
    too_deep = DomainError("", {"json": [f"Nested more than {MAX_DEPTH} levels deep."]})
    try:
        document = json.loads(data, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise too_deep from None
    except ValueError as error:  # not JSON, not UTF-8, NaN, a number beyond any float
        raise DomainError("", {"json": ["Invalid JSON body."]}) from error
    if _depth(document) > MAX_DEPTH:
        raise too_deep
    errors: dict = {}
    for path, character in text_problems(document):
        if not path:
            errors = [_message(character)]
            break
        node = errors
        for key in path[:-1]:
            node = node.setdefault(str(key), {})
        node.setdefault(str(path[-1]), []).append(_message(character))
    if errors:
        raise Invalid("", {"json": errors})


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is beyond any float")
    return number


def _depth(document) -> int:
    """How many arrays and objects deep `document` is, counted to just past MAX_DEPTH."""
    deepest, stack = 0, [(document, 1)]
    while stack and deepest <= MAX_DEPTH:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1)
                         for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _check_fields(location: str, pairs) -> None:
    """(name, value) pairs of query arguments, form fields or file names: printable text."""
    errors = {}
    for name, value in pairs:
        if character := bad_character(name) or bad_character(value):
            errors[NOT_TEXT.sub("\ufffd", name)] = [_message(character)]
    if errors:
        raise Invalid("", {location: errors})


def _message(character: str) -> str:
    """Pages speak the user's language; the API speaks English, as in all its messages."""
    with nullcontext() if wants_html() else force_locale("en"):
        return gettext("Must be printable text (found %(character)s).", character=character)
