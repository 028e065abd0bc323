"""The floor stations' use-cases: picking, the packing table (parcels closed and voided), the
courier handoff."""
