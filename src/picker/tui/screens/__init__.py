"""The screens of the terminal, one module per screen; each imports only ``base`` of them."""
