"""Reception of work: shop orders, the catalogue and stock counts, reservation.

order_import.py (shop orders imported, checked, reserved, assigned), catalogue.py (product
and stock CSVs), allocation.py (reservation and assignment), reports.py (what an import says).
"""
