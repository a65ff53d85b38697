"""Users, roles, login for pages and bearer tokens for the API, and role/region scoping."""
