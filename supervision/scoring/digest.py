"""What the period reports and the dashboard read of a frozen score, kept beside it on the visit.

A frozen score is about 15 KB of JSON, two thirds of it per-item rows; a region's period of
20,000 visits spent most of its time parsing them. The digest keeps only the figures and, per
item, whether it was scored and whether it was missed, in about a tenth of the size."""

NOT_MET = ("partial", "failed", "red_line", "unanswered")


def missed(row: dict) -> bool:
    """Whether a scored item row counts as not met (a red line always does)."""
    return row["status"] in NOT_MET and (row["possible"] > 0 or row["status"] == "red_line")


def scored(row: dict) -> bool:
    """Whether an item row counts in its failure rate's denominator."""
    return row["status"] == "met" or (row["status"] in NOT_MET and row["possible"] > 0)


def digest_of(score: dict | None) -> dict | None:
    if score is None:
        return None
    items = score.get("items", [])
    return {
        "functions": {f["id"]: f["percent"] for f in score.get("functions", [])},
        "moments": {m["id"]: m["percent"] for m in score.get("moments", [])},
        "grid": [[g["function"], g["moment"], g["percent"]] for g in score.get("grid", [])],
        "red_lines": [r["item"] for r in score.get("red_lines", [])],
        "grade": score.get("grade", {}).get("label"),
        "scored": [row["item"] for row in items if scored(row)],
        "missed": [[row["item"], row.get("function"), row.get("moment")]
                   for row in items if missed(row)],
    }
