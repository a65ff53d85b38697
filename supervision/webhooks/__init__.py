"""Webhooks: signed events sent after the commit to endpoints admins registered."""
