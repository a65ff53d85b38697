"""Error messages in the requester's language. Services and schemas raise English text, often
with values filled in ("Visit 5 is published: …", marshmallow's "Length must be between 1 and
80."); an error answer passes each message through `translate`: a message the catalogue knows is
looked up as it is, one made from a template below is matched, its template translated, and the
values put back. Field names (the API's keys) are never translated."""

import re
from functools import cache

from flask import current_app, request, session
from flask_babel import gettext, pgettext
from flask_login import current_user

# Templates of the messages that carry values ({name}: any text, possibly empty), marshmallow's
# and the app's own. Each is a msgid of the catalogue, its {names} kept in the translation.
TEMPLATES = (
    # marshmallow
    "Must be one of: {choices}.",
    "Shorter than minimum length {min}.",
    "Longer than maximum length {max}.",
    "Length must be between {min} and {max}.",
    "Length must be {equal}.",
    # the ranges of two bounds before those of one, "or equal to" before without
    "Must be greater than or equal to {min} and less than or equal to {max}.",
    "Must be greater than or equal to {min} and less than {max}.",
    "Must be greater than {min} and less than or equal to {max}.",
    "Must be greater than {min} and less than {max}.",
    "Must be greater than or equal to {min}.",
    "Must be greater than {min}.",
    "Must be less than or equal to {max}.",
    "Must be less than {max}.",
    # supervision/schemas.py and the body of a visit (supervision/visits/validation.py)
    "Must be printable text (found {character}).",
    "Unknown item '{item}' in {checklist}.",
    "Answered twice (also at {index}).",
    "Does not apply: it is asked only when {item} is {value}; leave it out.",
    "Unknown moment; one of: {moments}.",
    # visits
    "Visit {visit} is {status}: it can no longer change.",
    "Checklist {checklist} is retired: no new visit may use it.",
    "Checklist {checklist} has no version {version}.",
    "Unknown version of {checklist}.",
    "Checklist {checklist} is for {kind} visits.",
    "Store {store} is unknown or outside your regions.",
    "Visit {visit} was signed off by the store ({name}): it can no longer change.",
    "Visit {visit} is a {kind} visit.",
    "The visit is incomplete: {responses} required answer(s) missing, {photos} item(s) short of "
    "photos, {missing} announced photo(s) not received, {unexplained} red-line finding(s) "
    "without a note.",
    "The visit is incomplete: {responses} required answer(s) missing, {photos} item(s) short of "
    "photos, {missing} announced photo(s) not received.",
    "{min} required, {received} received.",
    "Red-line finding ({item}): say what happened in the note.",
    "Visit {visit} was recorded for store {store} with {checklist} v{version}; its store and "
    "checklist cannot change.",
    "Visit {visit} is {status}: no new photos.",
    "Photo id {photo} belongs to another visit.",
    "Photo {photo} was announced for item {expected}, not {item}.",
    "Item {item} does not exist in this visit's checklist.",
    "Photo {photo} of visit {visit} has not been received.",
    "Visit {visit} is {status}: submit it before it is signed off.",
    "The visit is {status}.",
    "Visit {visit} was already signed off by {name}; a sign-off cannot change.",
    "Visit {visit} is {status}; only a submitted visit is reviewed.",
    "The image is damaged or incomplete ({error}): was the upload cut off? Send it again.",
    "{format} images are not accepted: send JPEG, PNG, HEIC or WebP.",
    "{width}×{height} pixels is more than the limit of {limit} megapixels.",
    "The image has more than the limit of {limit} megapixels.",
    # follow-up
    "Action {action} is {status}: photos of the fix are taken while it is agreed or reopened.",
    "The action is {status}.",
    "An action that is {status} cannot become {target}; it can become: {allowed}.",
    "Upload a photo of the fix first: PUT /api/v1/actions/{action}/evidence/{photo_id}.",
    "Photo {photo} was already received with other content; give a new photo a new id.",
    "{checklist} is not a current mystery-visit checklist.",
    "An action that is {status} can no longer be edited.",
    "Only a done action is approved or rejected; this one is {status}.",
    "Staff member {staff} is not on this store's roster.",
    "Assignment {assignment} is {status}; only a planned assignment can change.",
    "The assignment is {status}.",
    "Assignment {assignment} is not one of your assignments.",
    "Assignment {assignment} is for another store.",
    "Assignment {assignment} uses another checklist.",
    "Assignment {assignment} already has a submitted visit.",
    # the store's queries of mystery results (supervision/followup/queries.py)
    "The query window closed at {time}.",
    "Item {item} of this visit was already queried.",
    "Query {query} was ruled ({status}): no more photos.",
    "Query {query} was already ruled: {status}.",
    "Already {status}.",
    "The query is {status}.",
    # visit plans and mystery waves (supervision/plans/)
    "A whole number from {low} to {high}.",
    "{checklist} is not a current audit checklist.",
    "This shopper was at this store less than {days} days before or after: the lockout would "
    "be broken.",
    "Lockout of {days} days broken.",
    # anything not found (supervision/scoping.py and the like), and HTTP's own
    "{what} {id} not found.",
    "The request body is too large: the limit is {limit} bytes.",
    # API keys and webhooks
    "No such region: {region}.",
    "The host {host} cannot be resolved.",
    "{host} is a private, loopback or reserved address; the operator may allow its network "
    "(WEBHOOK_ALLOWED_NETWORKS).",
    "The webhook URL is refused: {problem}",
)

# Values put back that are words of the API (a status, a kind, what was not found): shown in
# the reader's language.
WORDS = {"status", "target", "kind", "what"}


@cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    patterns = []
    for template in TEMPLATES:
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>.*)"
                        for n, part in enumerate(parts))
        patterns.append((re.compile(f"^{regex}$", re.DOTALL), template))
    return patterns


def asked_language() -> bool:
    """Whether the requester has a language: ?lang=, the session's, the account's, or a
    browser's (which always sends Accept-Language; the page's language, `get_locale()`, is
    then the answer's too). A script that says nothing gets the API's English."""
    languages = current_app.config["LANGUAGES"]
    return (request.args.get("lang") in languages or session.get("lang") in languages
            or getattr(current_user, "locale", None) in languages
            or "Accept-Language" in request.headers)


def translate(text: str) -> str:
    """`text` in the requester's language (that of `get_locale()`), when they chose one and
    the catalogue knows the text or its template."""
    if not text or not asked_language():
        return text
    return in_locale(text)


def in_locale(text: str) -> str:
    """`text` in the language of `get_locale()` (a page's), if the catalogue knows the text
    or its template."""
    found = gettext(text)
    if found != text:
        return found
    for pattern, template in _patterns():
        match = pattern.match(text)
        if match is None:
            continue
        translated = gettext(template)
        if translated == template:
            return text
        values = {name: _word(name, value) for name, value in match.groupdict().items()}
        return translated.format(**values)
    return text


def _word(name: str, value: str) -> str:
    return pgettext(name, value) if name in WORDS else value


def translate_errors(errors):
    """A marshmallow/webargs error dict (nested dicts and lists), its messages translated."""
    if not errors or not asked_language():
        return errors
    if isinstance(errors, dict):
        return {key: translate_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_errors(value) for value in errors]
    return translate(errors) if isinstance(errors, str) else errors
