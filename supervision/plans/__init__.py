"""Visit plans: recurring audit plans and their due audits, mystery waves, follow-up re-visits
and the coverage they give."""
