"""Background jobs (report rendering), in process or on a Redis queue."""
