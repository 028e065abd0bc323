"""Reception of work: shop orders imported and checked, the catalogue and stock counts,
reservation and assignment."""
