"""Everything that measures: benchmark drivers, the multi-terminal floor simulation, the
headless-app latency drivers, the WeasyPrint comparison. Nothing in the product imports it."""
