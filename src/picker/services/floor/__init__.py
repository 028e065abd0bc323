"""The floor stations' use-cases: picking, packing, parcels, the courier handoff.

picking.py (the picker's queue and walk), packing.py (the packing table), parcels.py (a
parcel closed or voided), pack_state.py (what the packing use-cases share), handoff.py (lanes,
pickups, manifests).
"""
