"""Pure rules of the floor: no I/O, no SQLAlchemy, no Textual."""
