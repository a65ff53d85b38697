"""Which gaps of a scored visit are coached: the report's questions and the proposed actions
are made from the same list, so the chain question → agreed action → next visit holds."""

from supervision.checklists.definition import PEAK_END_MOMENTS

# Gaps the conversation covers besides the red lines (ten minutes, three points).
COACHED = 3
GAP_STATUSES = ("red_line", "failed", "partial", "unanswered")


def coached_gaps(score: dict) -> list[dict]:
    """The score's item rows to coach, in the order to coach them: every red line, then the
    items that lost the most points (peak and end first on a tie), up to COACHED in all."""
    rows = [(order, row) for order, row in enumerate(score.get("items", []))
            if row["status"] == "red_line"
            or (row["status"] in GAP_STATUSES and row["possible"] - row["earned"] > 0)]
    rows.sort(key=lambda pair: (pair[1]["status"] != "red_line",
                                -(pair[1]["possible"] - pair[1]["earned"]),
                                pair[1]["moment"] not in PEAK_END_MOMENTS, pair[0]))
    red_lines = sum(row["status"] == "red_line" for _, row in rows)
    return [row for _, row in rows[:max(COACHED, red_lines)]]
