"""The demo floor: a made-up warehouse to try Picker on, and its floor sheet.

Products, bins, stock, couriers, operators and orders in every status (builder.py, from
floor_data.py and rows.py), and the floor sheet of barcodes (floor_sheet.py).
"""
