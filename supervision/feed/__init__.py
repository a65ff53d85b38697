"""Data out: the incremental feed of visits, actions and disputes, in the order they committed."""
