"""Use-cases, one transaction each. They enforce roles, call the domain and write events."""
