"""Shop formats: a shop's export, as bytes, read into domain order records.

One module per format (shopify.py, woocommerce.py, csv_orders.py), the entry that detects and
parses (orders.py), and what they share (reading.py, files.py). No store, no services: bytes
in, :class:`~picker.domain.intake.IncomingOrder` records (or record errors) out.
"""
