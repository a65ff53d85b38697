"""Regions and stores (service halls)."""
