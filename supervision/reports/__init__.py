"""PDF coaching reports for a visit, a store and a region."""
