"""A visit's answers as the scoring reads them, and the score snapshot frozen on the visit."""

from supervision.checklists.definition import Answer, ChecklistDefinition
from supervision.scoring import score_visit
from supervision.visits.models import Visit


def answers_of(visit: Visit) -> dict[str, Answer]:
    """Item id → the stored answer (value, not applicable) of each of the visit's responses."""
    return {r.item_id: Answer(r.value, bool(r.na)) for r in visit.responses}


def freeze_score(visit: Visit, definition: ChecklistDefinition) -> dict:
    """Score the visit's answers against its own checklist version and store the snapshot
    (score, total, grade, red line) on it; returns the score."""
    score = score_visit(definition, answers_of(visit)).to_dict()
    visit.score, visit.total, visit.grade = score, score["total"], score["grade"]["id"]
    visit.red_line = bool(score["red_lines"])
    return score
