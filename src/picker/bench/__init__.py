"""Everything that measures; nothing in the product imports it.

Each ``picker bench`` run (runs.py) and its drivers (drivers.py), the multi-terminal floor
simulation (floor.py), the headless-app latency drivers (terminal.py), the WeasyPrint
comparison (html_label.py).
"""
