"""Visits (audits and mystery visits), their responses and photos."""
