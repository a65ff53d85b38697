"""Parse checklist YAML into a validated definition; each problem names file, line and id."""

import codecs
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from supervision.checklists.definition import ChecklistDefinition
from supervision.checklists.schemas import ChecklistSchema
from supervision.schemas import bad_character, not_printable, text_problems

KeyPath = tuple[str | int, ...]

# Lines with characters that are not text listed at most (a binary file has thousands).
MAX_LINES_LISTED = 10
# List keys whose entries carry an `id` that names them in messages ("item greet_10s: ...").
_OWNERS = {"sections": "section", "items": "item", "grades": "grade", "moments": "moment",
           "intervals": "interval"}


class ChecklistError(ValueError):
    """Everything wrong with one checklist source; each problem is a complete sentence."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.source = source
        self.problems = problems


def load_checklist(text: str, source: str = "<string>") -> ChecklistDefinition:
    """Parse and validate YAML `text`; raise ChecklistError listing every problem found."""
    if problems := _character_problems(text, source):
        raise ChecklistError(source, problems)
    root, data = _parse(text, source)
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root else 1
        raise ChecklistError(source, [
            f"{source}:{line}: The document must be a mapping with slug, title, kind and sections."
        ])
    problems = [_describe(source, line, data, path, message)
                for path, line, message in _duplicate_keys(root)]
    problems += [_describe(source, _line(root, path), data, path, not_printable(character))
                 for path, character in text_problems(data)]
    try:
        definition = ChecklistSchema().load(data)
    except ValidationError as error:
        problems += [_describe(source, _line(root, path), data, path, message)
                     for path, message in _flatten(error.messages)]
    if problems:
        raise ChecklistError(source, problems)
    return definition


def definition_hash(definition: ChecklistDefinition) -> str:
    """sha256 of the normalised definition: comments, layout and key order do not count."""
    normalised = json.dumps(definition.to_dict(), sort_keys=True)
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def content_hash(text: str) -> str:
    """The version identity of a checklist file: `definition_hash` of what it loads to."""
    return definition_hash(load_checklist(text))


def decode_upload(data: bytes) -> str:
    """An uploaded checklist file as text: UTF-16 with its BOM, UTF-8 with or without one, else
    GB18030 (what editors in China save); bytes that cannot be read become U+FFFD, and control
    characters stay, for the loader to report."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def load_directory(path: str | Path) -> dict[str, tuple[ChecklistDefinition, str]]:
    """Every `*.yaml` file of a folder by slug, with its text; all problems of all files at once."""
    loaded: dict[str, tuple[ChecklistDefinition, str]] = {}
    problems: list[str] = []
    for file in sorted(Path(path).glob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        try:
            definition = load_checklist(text, str(file))
        except ChecklistError as error:
            problems += error.problems
            continue
        if definition.slug in loaded:
            problems.append(f"{file}: slug {definition.slug} is already used by another file.")
        else:
            loaded[definition.slug] = (definition, text)
    if problems:
        raise ChecklistError(str(path), problems)
    return loaded


def _character_problems(text: str, source: str) -> list[str]:
    """A checklist is printable text (YAML's own rule, less NEL): each line that is not."""
    lines = [(number, character) for number, line in enumerate(text.split("\n"), 1)
             if (character := bad_character(line))]
    problems = [f"{source}:{number}: {not_printable(character)}"
                for number, character in lines[:MAX_LINES_LISTED]]
    if len(lines) > MAX_LINES_LISTED:
        problems.append(f"{source}: {len(lines) - MAX_LINES_LISTED} more lines like these.")
    return problems


def _parse(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The composed node tree (for line numbers) and the plain data, from a single parse."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses what YAML does not print
        root = loader.get_single_node()
        return root, None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise ChecklistError(source, [
            f"{source}:{line}: YAML syntax error: {error.problem or error.context}."
        ]) from error
    except yaml.YAMLError as error:
        raise ChecklistError(source, [f"{source}: YAML error: {error}"]) from error
    finally:
        if loader is not None:
            loader.dispose()


def _duplicate_keys(node: yaml.Node, path: KeyPath = ()) -> Iterator[tuple[KeyPath, int, str]]:
    """YAML silently keeps the last of two equal keys; the administrator meant only one."""
    if isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            yield from _duplicate_keys(child, (*path, index))
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            if key.value in seen:
                yield (*path, key.value), key.start_mark.line + 1, "Duplicate key."
            seen.add(key.value)
            yield from _duplicate_keys(value, (*path, key.value))


def _flatten(messages: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """marshmallow's nested error dictionary as (path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" else (*path, key))
    else:
        for message in messages:
            yield path, message


def _describe(source: str, line: int, data: Any, path: KeyPath, message: str) -> str:
    """`file:line: item id: field: message`, leaving out the parts that do not apply."""
    owner, field = _owner(data, path)
    parts = [f"{source}:{line}", owner, _field_name(field), message]
    return ": ".join(part for part in parts if part)


def _owner(data: Any, path: KeyPath) -> tuple[str | None, KeyPath]:
    """The innermost section, item, grade, moment or interval on `path`, and the rest."""
    owner, start, node = None, 0, data
    for index, key in enumerate(path):
        node = _child_data(node, key)
        if isinstance(key, int) and index and path[index - 1] in _OWNERS:
            label = _OWNERS[path[index - 1]]
            ident = node.get("id") if isinstance(node, dict) else None
            owner = f"{label} {ident}" if isinstance(ident, str) else f"{label} #{key + 1}"
            start = index + 1
    return owner, path[start:]


def _child_data(node: Any, key: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def _field_name(path: KeyPath) -> str:
    name = ""
    for key in path:
        name += f"[{key}]" if isinstance(key, int) else f".{key}" if name else key
    return name


def _line(node: yaml.Node, path: KeyPath) -> int:
    """The line of the deepest node on `path` that exists (a missing field: its mapping)."""
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
