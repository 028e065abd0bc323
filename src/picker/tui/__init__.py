"""The Textual terminal: screens, widgets and styles. It calls services, never SQL."""
