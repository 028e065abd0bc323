"""JSON for scripts, as the commands' ``--json`` and ``--format json`` print it."""

from __future__ import annotations

import json
import re
from typing import Any


def to_json(data: Any) -> str:
    """JSON for scripts: readable UTF-8, but C1 control characters (which JSON leaves raw and
    some terminals obey) escaped like the C0 ones."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)
