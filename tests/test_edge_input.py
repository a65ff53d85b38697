"""Bad input is refused at the edge with a 4xx JSON error naming the field, never a 5xx.

The cases are generated from the OpenAPI document: every operation, each string of its JSON body
with a lone UTF-16 surrogate, a NUL and a control character; each integer at 2^31 and 2^63; each
date in the year 9999; a JSON body nested 1000 levels deep; and the same for its query and path
parameters. The focused tests below follow one rule each."""

import json
import uuid

import pytest

from tests.test_admin_pages import logged_in

BAD_TEXTS = {"surrogate": "\ud800", "nul": "\x00", "control": "\x0b"}
BIG_INTEGERS = (2**31, 2**63)
# A valid value by name, where the type alone gives none (ids come from the world).
EXAMPLES = {"email": "edge@example.com", "password": "edge-password", "code": "EDGE1",
            "slug": "edge-test", "kind": "stores", "what": "visits", "fmt": "csv"}
WORLD_IDS = {"store_id": "store", "region_id": "east", "shopper_id": "shopper",
             "user_id": "admin"}
# Who calls an operation (admin by default): visits are captured by a supervisor.
CALLERS = {("put", "/api/v1/visits/{visit_id}"): "supervisor",
           ("put", "/api/v1/visits/{visit_id}/photos/{photo_id}"): "supervisor",
           ("post", "/api/v1/visits/{visit_id}/submit"): "supervisor",
           ("post", "/api/v1/auth/token"): None}


@pytest.fixture
def world(make_world):
    return make_world()


@pytest.fixture
def operations(client):
    """The OpenAPI document (to resolve references) and (method, path template, operation, its
    parameters) of every operation in it."""
    document = client.get("/api/v1/openapi.json").json
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                parameters = item.get("parameters", []) + operation.get("parameters", [])
                found.append((method, path, operation, parameters))
    return document, found


def resolve(document: dict, schema: dict) -> dict:
    """A schema without its $ref, allOf or anyOf wrappers (the first alternative)."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in schema or "anyOf" in schema:
            schema = (schema.get("allOf") or schema["anyOf"])[0]
        else:
            return schema


def example(document: dict, schema: dict, name: str, world: dict):
    """A valid value of `schema` (an object gets its required properties only)."""
    schema = resolve(document, schema)
    kind, known = schema.get("type"), schema.get("enum")
    if name in WORLD_IDS:
        return world[WORLD_IDS[name]].id
    if known:
        return next(value for value in known if value is not None)
    if kind == "object":
        return {key: example(document, schema["properties"][key], key, world)
                for key in schema.get("required", ())}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return {"email": EXAMPLES["email"], "uuid": str(uuid.uuid4()), "date": "2026-03-20",
            "date-time": "2026-03-10T09:00:00+08:00"}.get(
        schema.get("format"), EXAMPLES.get(name, "x" * max(schema.get("minLength", 1), 1)))


def leaves(document: dict, schema: dict, path=()):
    """(path, schema) of every scalar property, into nested objects and arrays."""
    schema = resolve(document, schema)
    if schema.get("type") == "object":
        for key, child in schema.get("properties", {}).items():
            yield from leaves(document, child, (*path, key))
    elif schema.get("type") == "array":
        yield from leaves(document, schema["items"], (*path, 0))
    else:
        yield path, schema


def body_with(document: dict, schema: dict, path: tuple, value, world: dict):
    """A valid body but for `value` at `path`: the objects and arrays on the way are made."""
    schema = resolve(document, schema)
    if not path:
        return value
    key, rest = path[0], path[1:]
    if schema.get("type") == "array":
        return [body_with(document, schema["items"], rest, value, world)]
    body = example(document, schema, "", world)
    body[key] = body_with(document, schema["properties"][key], rest, value, world)
    return body


def bad_values(schema: dict, name: str):
    """(label, bad value, expected status in a body or query) for a scalar schema."""
    kind, form = schema.get("type"), schema.get("format")
    if kind in (None, "string") and form not in ("date", "date-time", "uuid"):
        for label, text in BAD_TEXTS.items():
            yield label, EXAMPLES.get(name, "x") + text
    if kind == "integer":
        for number in BIG_INTEGERS:
            yield str(number), number
    if form == "date":
        yield "year 9999", "9999-12-31"
    if form == "date-time":
        yield "year 9999", "9999-12-31T00:00:00+00:00"


def url(path: str, parameters: list, world: dict, bad: tuple = ("", "")) -> str:
    """`path` with a valid value for each path parameter but `bad` = (name, raw text)."""
    for parameter in parameters:
        if parameter["in"] != "path":
            continue
        name, schema = parameter["name"], parameter["schema"]
        if name == bad[0]:
            value = bad[1]
        elif schema.get("format") == "uuid":
            value = str(uuid.uuid4())
        elif schema.get("type") == "integer":
            value = str(world[WORLD_IDS[name]].id if name in WORLD_IDS else 1)
        else:
            value = (schema.get("enum") or [EXAMPLES.get(name, "x")])[0]
        path = path.replace("{" + name + "}", value)
    return path


def query_of(parameters: list, world: dict, document: dict, name: str, value) -> dict:
    """The required query parameters with valid values, and `name` set to `value`."""
    query = {p["name"]: str(example(document, p["schema"], p["name"], world))
             for p in parameters if p["in"] == "query" and p.get("required")}
    return {**query, name: value}


def json_schema(operation: dict) -> dict | None:
    return operation.get("requestBody", {}).get("content", {}).get(
        "application/json", {}).get("schema")


def call(client, world, method, path, data=None, query=None):
    who = CALLERS.get((method, path[1]), "admin")
    headers = dict(world["headers"][who]) if who else {}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        return client.open(path[0], method=method.upper(), data=data, query_string=query,
                           headers=headers)
    except Exception as error:  # noqa: BLE001  (TESTING propagates what would be a 500)
        return error


def problem(answer, status: int, location: str | None = None, field: tuple = ()) -> str | None:
    """What is wrong with an error answer, or None: the status, the one error shape, and the
    field named in `errors` (under its location) and in the message."""
    if isinstance(answer, Exception):
        return f"500: {type(answer).__name__}: {str(answer)[:150]}"
    if answer.status_code != status:
        return f"answered {answer.status_code}, not {status}: {answer.get_data(True)[:200]}"
    body = answer.get_json(silent=True)
    if not isinstance(body, dict) or body.get("code") != status or not body.get("message"):
        return f"not the JSON error shape: {answer.get_data(True)[:200]}"
    if location is None:
        return None
    node = body.get("errors", {}).get(location, {})
    for key in field:
        node = node.get(str(key)) if isinstance(node, dict) else None
    named = ".".join(map(str, field))
    if not node or named not in body["message"]:
        return f"{named} not named: {body}"
    return None


def raw_json(value) -> str:
    """JSON text as a client sends it: a lone surrogate stays the escape \\ud800."""
    return json.dumps(value, ensure_ascii=True)


def test_every_json_body_field_refuses_bad_text_big_integers_and_far_dates(client, world,
                                                                           operations):
    document, found = operations
    failures, sent = [], 0
    for method, template, operation, parameters in found:
        schema = json_schema(operation)
        if schema is None:
            continue
        for field, leaf in leaves(document, schema):
            for label, value in bad_values(leaf, field[-1]):
                body = body_with(document, schema, field, value, world)
                path = (url(template, parameters, world), template)
                answer = call(client, world, method, path, data=raw_json(body))
                sent += 1
                if wrong := problem(answer, 422, "json", field):
                    failures.append(f"{method.upper()} {template} {field} {label}: {wrong}")
    assert sent > 150
    assert not failures, "\n".join(failures)


def test_every_query_parameter_refuses_control_characters_big_integers_and_far_dates(
        client, world, operations):
    document, found = operations
    failures, sent = [], 0
    for method, template, _operation, parameters in found:
        for parameter in (p for p in parameters if p["in"] == "query"):
            name = parameter["name"]
            for label, value in bad_values(parameter["schema"], name):
                if label == "surrogate":  # a query string is bytes: no UTF-16 in it
                    continue
                query = query_of(parameters, world, document, name, str(value))
                path = (url(template, parameters, world), template)
                answer = call(client, world, method, path, query=query)
                sent += 1
                if wrong := problem(answer, 422, "query", (name,)):
                    failures.append(f"{method.upper()} {template} ?{name} {label}: {wrong}")
    assert sent > 60
    assert not failures, "\n".join(failures)


def test_every_path_parameter_out_of_range_or_with_control_characters_is_not_found(
        client, world, operations):
    _document, found = operations
    failures, sent = [], 0
    for method, template, _operation, parameters in found:
        for parameter in (p for p in parameters if p["in"] == "path"):
            schema = parameter["schema"]
            if schema.get("type") == "integer":
                bad = [str(number) for number in BIG_INTEGERS]
            elif "format" not in schema and "enum" not in schema:
                bad = ["x%00", "x%0B"]
            else:
                continue
            for raw in bad:
                path = (url(template, parameters, world, (parameter["name"], raw)), template)
                answer = call(client, world, method, path)
                sent += 1
                if wrong := problem(answer, 404):
                    failures.append(f"{method.upper()} {path[0]}: {wrong}")
    assert sent > 30
    assert not failures, "\n".join(failures)


def test_a_body_nested_a_thousand_levels_deep_is_a_400_naming_the_body(client, world,
                                                                       operations):
    _document, found = operations
    failures = []
    deep = "[" * 1000 + "]" * 1000
    for method, template, operation, parameters in found:
        if json_schema(operation) is None:
            continue
        path = (url(template, parameters, world), template)
        answer = call(client, world, method, path, data=deep)
        if wrong := problem(answer, 400, "json"):
            failures.append(f"{method.upper()} {template}: {wrong}")
        elif not answer.json["message"].startswith("body: "):
            failures.append(f"{method.upper()} {template}: {answer.json['message']}")
    assert not failures, "\n".join(failures)


def nested(levels: int):
    value = "x"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [32, 33])
def test_json_deeper_than_32_levels_is_refused(client, world, depth):
    """The body, its responses, a response: 3 levels; its value makes up the rest."""
    body = {"store_id": world["store"].id, "checklist": {"slug": "none", "version": 1},
            "kind": "audit", "started_at": "2026-03-10T09:00:00+08:00",
            "responses": [{"item": "a", "value": nested(depth - 3)}]}
    answer = client.put(f"/api/v1/visits/{uuid.uuid4()}", data=raw_json(body),
                        headers={**world["headers"]["supervisor"],
                                 "Content-Type": "application/json"})
    if depth > 32:
        assert answer.status_code == 400
        assert answer.json["message"] == "body: Nested more than 32 levels deep."
    else:  # read, and refused for what it says (no such checklist)
        assert answer.status_code in (404, 422), answer.json


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_does_not_know_are_refused(client, world, text):
    body = (f'{{"store_id": {world["store"].id}, "checklist": {{"slug": "x", "version": 1}}, '
            f'"kind": "audit", "started_at": "2026-03-10T09:00:00+08:00", '
            f'"responses": [{{"item": "a", "value": {text}}}]}}')
    answer = client.put(f"/api/v1/visits/{uuid.uuid4()}", data=body,
                        headers={**world["headers"]["supervisor"],
                                 "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json["message"] == "body: Invalid JSON body."


def test_anonymous_login_with_a_deep_body_is_a_400(client):
    answer = client.post("/api/v1/auth/token", data="{" + '"a":{' * 999 + "}" * 1000,
                         content_type="application/json")
    assert answer.status_code == 400 and answer.json["errors"] == {
        "json": ["Nested more than 32 levels deep."]}


def test_a_bad_key_is_named_by_its_path(client, world):
    body = raw_json({"responses": [{"item": "a", "no\x00te": "x"}]})
    answer = client.put(f"/api/v1/visits/{uuid.uuid4()}", data=body,
                        headers={**world["headers"]["supervisor"],
                                 "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json["message"] == (
        "responses.0.no\ufffdte: Must be printable text (found U+0000).")


def test_text_keeps_tabs_and_line_breaks(client, world):
    body = {"code": "EDGE9", "name": "东一\t营业厅", "address": "广州\r\n天河路",
            "region_id": world["east"].id}
    answer = client.post("/api/v1/admin/stores", json=body, headers=world["headers"]["admin"])
    assert answer.status_code == 201
    assert (answer.json["name"], answer.json["address"]) == ("东一\t营业厅", "广州\r\n天河路")


@pytest.mark.parametrize("due", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_an_action_due_date_is_of_the_years_2000_to_2100(client, world, due):
    body = {"store_id": world["store"].id, "title": "整改", "owner": "店长", "due_date": due}
    headers = world["headers"]["admin"]
    created = client.post("/api/v1/actions", json=body, headers=headers)
    assert created.status_code == 422
    assert created.json["message"] == "due_date: Must be between the years 2000 and 2100."
    action = client.post("/api/v1/actions", json={**body, "due_date": "2100-12-31"},
                         headers=headers)
    assert action.status_code == 201
    changed = client.patch(f"/api/v1/actions/{action.json['id']}", json={"due_date": due},
                           headers=headers)
    assert changed.status_code == 422 and "due_date" in changed.json["errors"]["json"]


EXPORT_URLS = [f"/api/v1/exports/{what}.{fmt}" for what in ("visits", "answers", "actions",
                                                           "disputes") for fmt in ("csv", "xlsx")]


@pytest.mark.parametrize("accept", [None, "text/csv", "text/html,*/*;q=0.8"])
def test_a_far_day_on_an_export_url_is_a_json_422(app, client, world, accept):
    """The API's exports answer JSON whatever the client accepts; the page's export answers
    JSON to a client that does not ask for a page."""
    headers = {"Accept": accept} if accept else {}
    for path in EXPORT_URLS:
        answer = client.get(f"{path}?to=9999-12-31", headers={**world["headers"]["admin"],
                                                               **headers})
        assert problem(answer, 422, "query", ("to",)) is None, path
    if accept is None or not accept.startswith("text/html"):
        page = logged_in(app.test_client(), world["admin"])
        answer = page.get("/admin/exports?what=visits&fmt=csv&to=9999-12-31", headers=headers)
        assert problem(answer, 422, "query", ("to",)) is None


def test_an_uploaded_file_name_is_printable_text(client, world):
    import io

    answer = client.post("/api/v1/admin/imports/stores?dry_run=1",
                         headers=world["headers"]["admin"], content_type="multipart/form-data",
                         data={"file": (io.BytesIO("编码,名称,区域\n".encode()), "s\x0b.csv")})
    assert problem(answer, 422, "files", ("file",)) is None


def test_the_openapi_document_states_the_ranges_and_rules(operations):
    """So that a valid request is never refused by surprise: integers to 2^31 - 1, days and
    times of the years 2000 to 2100, free text printable."""
    from supervision.schemas import INT_MAX, TEXT_PATTERN

    document, found = operations
    unstated = []
    for method, template, operation, parameters in found:
        inputs = [(f"{p['in']} {p['name']}", p["schema"]) for p in parameters]
        if schema := json_schema(operation):
            inputs += [(".".join(map(str, path)), leaf) for path, leaf in leaves(document, schema)]
        for name, schema in inputs:
            kind, form = schema.get("type"), schema.get("format")
            if kind == "integer":
                stated = schema.get("maximum", INT_MAX + 1) <= INT_MAX
            elif form in ("date", "date-time"):
                stated = schema.get("x-minimum", "")[:4] == "2000" and "x-maximum" in schema
            elif kind == "string" and not (form or schema.get("enum")):
                stated = "pattern" in schema
            else:
                continue
            if not stated:
                unstated.append(f"{method.upper()} {template} {name}: {schema}")
    assert not unstated, "\n".join(unstated)
    query = document["paths"]["/api/v1/admin/stores"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("pattern") for p in query}["q"] == TEXT_PATTERN


@pytest.mark.parametrize("body", ["null", "7", '"text"', "[]", "{}"])
def test_a_body_that_is_no_object_is_a_4xx(client, body):
    answer = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert problem(answer, answer.status_code) is None and 400 <= answer.status_code < 500
