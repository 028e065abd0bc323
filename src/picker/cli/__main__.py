"""``python -m picker.cli``, as ``python -m picker``: the ``picker`` command."""

from picker.cli import main

raise SystemExit(main())
