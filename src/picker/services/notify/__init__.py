"""Telling customers and shops: the outbox, its templates, mail, shop fulfilment, the dispatcher.

A cause calls :func:`picker.services.notify.outbox.enqueue` inside its own transaction; a
dispatcher (:mod:`picker.services.notify.dispatcher`) sends what is due.
"""
