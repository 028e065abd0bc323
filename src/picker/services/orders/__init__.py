"""Orders as a whole: the one path by which a status changes, and read-only views for leads and
scripts."""
