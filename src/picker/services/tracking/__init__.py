"""After the handoff: couriers' tracking events imported (:mod:`.events`), and the parcels
and orders that need a look — stale, or delivered late (:mod:`.stale`)."""
