"""Picker — the terminal application of an e-commerce warehouse floor."""

__version__ = "0.1.0"
