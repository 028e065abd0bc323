"""The demo floor: a whole warehouse of made-up products, bins, stock, operators and orders, and
its floor sheet."""
