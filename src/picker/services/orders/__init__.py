"""Orders as a whole: status changes, the lead's actions, read-only views.

status.py (the one path by which a status changes), lead_actions.py (release, hold, cancel,
assign), views.py (read-only views for leads and scripts).
"""
