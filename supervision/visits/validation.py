"""Check a visit body against the checklist version it names; errors shaped like marshmallow's."""

from supervision.checklists.definition import (
    Answer,
    ChecklistDefinition,
    Item,
    applies,
    validate_answer,
)


def body_errors(definition: ChecklistDefinition, body: dict) -> dict:
    """{"responses": {index: {"item"|"value": [...]}}, "moments": …, "photos": …}; empty if fine."""
    errors = {
        "responses": _response_errors(definition, body["responses"]),
        "moments": _moment_errors(definition, body["moments"]),
        "photos": _photo_errors(definition, body["photos"]),
    }
    return {key: value for key, value in errors.items() if value}


def _known(definition: ChecklistDefinition) -> set[str]:
    return {item.id for _, item in definition.items()}


def _response_errors(definition: ChecklistDefinition, responses: list[dict]) -> dict:
    known, errors, answers, seen = _known(definition), {}, {}, {}
    for index, given in enumerate(responses):
        item_id = given["item"]
        if item_id not in known:
            errors[index] = {"item": [f"Unknown item '{item_id}' in {definition.slug}."]}
        elif item_id in seen:
            errors[index] = {"item": [f"Answered twice (also at {seen[item_id]})."]}
        elif problem := validate_answer(definition.item(item_id), given["value"], given["na"]):
            errors[index] = {"value": [problem]}
        else:
            answers[item_id] = Answer(given["value"], given["na"])
        seen.setdefault(item_id, index)
    for index, given in enumerate(responses):
        item_id = given["item"]
        if item_id in answers and seen[item_id] == index:
            item = definition.item(item_id)
            if not applies(definition, item, answers):
                errors[index] = {"item": [_not_applicable(definition, item)]}
    return errors


def _not_applicable(definition: ChecklistDefinition, item: Item) -> str:
    condition = item.condition or definition.section_of(item.id).condition
    if condition is None:  # its section's condition item is itself switched off
        return "Does not apply: an earlier answer switches it off; leave it out."
    return (f"Does not apply: it is asked only when {condition.item} is "
            f"{str(condition.equals).lower()}; leave it out.")


def _moment_errors(definition: ChecklistDefinition, moments: list[dict]) -> dict:
    known = {moment.id for moment in definition.moments}
    return {
        index: {"moment": [f"Unknown moment; one of: {', '.join(sorted(known)) or 'none'}."]}
        for index, given in enumerate(moments) if given["moment"] not in known
    }


def _photo_errors(definition: ChecklistDefinition, photos: list[dict]) -> dict:
    known, errors, seen = _known(definition), {}, set()
    for index, given in enumerate(photos):
        if given["item"] not in known:
            errors[index] = {"item": [f"Unknown item '{given['item']}' in {definition.slug}."]}
        elif given["id"] in seen:
            errors[index] = {"id": ["Announced twice."]}
        seen.add(given["id"])
    return errors
