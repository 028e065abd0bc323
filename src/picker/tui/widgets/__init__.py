"""Widgets the screens share: the title bar, the feedback bar, the key bar."""
