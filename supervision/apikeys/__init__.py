"""API keys for integrations: named, scoped to regions, read-only, expiring, revocable."""
