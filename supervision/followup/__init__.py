"""Mystery-shop assignments, corrective actions and dispute records."""
