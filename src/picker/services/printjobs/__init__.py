"""What gets printed: labels, tracking numbers, pick lists, the print queue.

labels.py (courier labels), tracking_numbers.py (handed out by the database), pick_lists.py,
print_queue.py (the persisted queue).
"""
