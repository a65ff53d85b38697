"""When a plan's visits fall due: each recurrence across month ends and leap years, with start,
end and a resume point — hand-computed days."""

from datetime import date

import pytest

from supervision.plans.recurrence import next_after, occurrences, problems

D = date


def test_every_n_days_runs_across_month_and_year_ends():
    assert occurrences({"every_days": 10}, D(2027, 12, 25), None, None, D(2028, 2, 5)) == [
        D(2027, 12, 25), D(2028, 1, 4), D(2028, 1, 14), D(2028, 1, 24), D(2028, 2, 3)]


def test_every_n_days_resumes_on_its_own_rhythm_after_a_given_day():
    # from Jan 25 every 10 days: Feb 4, 14, 24 — resumed after Feb 10, the next is the 14th
    assert occurrences({"every_days": 10}, D(2027, 1, 25), None, D(2027, 2, 10),
                       D(2027, 3, 10)) == [D(2027, 2, 14), D(2027, 2, 24), D(2027, 3, 6)]


@pytest.mark.parametrize(("year", "february"), [(2027, [1, 15]), (2028, [1, 15])])
def test_twice_a_month_spreads_over_each_month_length(year, february):
    days = occurrences({"per_month": 2}, D(year, 1, 1), None, None, D(year, 4, 30))
    # 31 days: 1 and 1 + 31 // 2 = 16; 28 or 29 days: 1 and 15; 30 days: 1 and 16
    assert days == [D(year, 1, 1), D(year, 1, 16), *(D(year, 2, d) for d in february),
                    D(year, 3, 1), D(year, 3, 16), D(year, 4, 1), D(year, 4, 16)]


def test_four_a_month_in_a_leap_february():
    assert occurrences({"per_month": 4}, D(2028, 2, 1), None, None, D(2028, 2, 29)) == [
        D(2028, 2, 1), D(2028, 2, 8), D(2028, 2, 15), D(2028, 2, 22)]


def test_a_monthly_plan_starting_mid_month_begins_with_the_next_due_day():
    assert occurrences({"per_month": 2}, D(2027, 1, 20), None, None, D(2027, 3, 1)) == [
        D(2027, 2, 1), D(2027, 2, 15), D(2027, 3, 1)]


def test_weekdays_cross_a_month_end_and_stop_at_the_plan_end():
    # 2027-02-25 is a Thursday (3); Mondays (0) and Thursdays until Monday March 8
    assert occurrences({"weekdays": [0, 3]}, D(2027, 2, 25), D(2027, 3, 8), None,
                       D(2027, 4, 1)) == [D(2027, 2, 25), D(2027, 3, 1), D(2027, 3, 4),
                                          D(2027, 3, 8)]


def test_nothing_before_the_start_or_after_the_end():
    assert occurrences({"every_days": 1}, D(2027, 5, 1), D(2027, 4, 1), None, D(2027, 6, 1)) == []
    assert occurrences({"weekdays": [6]}, D(2027, 5, 1), None, D(2027, 5, 31),
                       D(2027, 5, 31)) == []


def test_the_next_due_day_after_a_day():
    assert next_after({"per_month": 1}, D(2027, 1, 1), D(2027, 1, 31)) == D(2027, 2, 1)
    assert next_after({"weekdays": [2]}, D(2027, 1, 1), D(2027, 1, 6)) == D(2027, 1, 13)
    assert next_after({"every_days": 14}, D(2027, 1, 1), D(2026, 12, 1)) == D(2027, 1, 1)


@pytest.mark.parametrize(("recurrence", "field"), [
    (None, "recurrence"), ({}, "recurrence"), ({"every_days": 7, "weekdays": [1]}, "recurrence"),
    ({"hourly": 1}, "recurrence"), ({"every_days": 0}, "every_days"),
    ({"every_days": "7"}, "every_days"), ({"per_month": 29}, "per_month"),
    ({"weekdays": []}, "weekdays"), ({"weekdays": [7]}, "weekdays"),
    ({"weekdays": [True]}, "weekdays")])
def test_a_wrong_recurrence_names_what_is_wrong(recurrence, field):
    assert field in problems(recurrence)


def test_right_recurrences_have_no_problem():
    for recurrence in ({"every_days": 7}, {"per_month": 28}, {"weekdays": [0, 6]}):
        assert problems(recurrence) == {}
