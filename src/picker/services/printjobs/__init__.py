"""What gets printed and how: courier labels, tracking numbers, pick lists, and the persisted
print queue."""
