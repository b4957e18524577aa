"""What every export format shares: the canonical JSON encoding, the title and the notices,
the row order of contact points, and where a Party reads how to confirm its entry.

A leaf: the format modules import this, never each other.
"""

from __future__ import annotations

import json
from typing import Any

from ..entry.model import ContactPoint, Entry

EXPORT_SCHEMA_ID = "https://directory247.invalid/schema/export/v1.json"
TITLE = "Directory of 24/7 contact points under Article 35 of the Convention on Cybercrime (CETS 185)"
DEMO_NOTICE = ("DEMONSTRATION DATA: every contact detail in this release is fictional. "
               "Do not use it to send a request.")


def dumps(value: Any) -> bytes:
    """The canonical JSON encoding used by every JSON file of a release."""
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def contact_point_order(entry: Entry) -> list[tuple[int, ContactPoint]]:
    """The contact points of an entry in row order: the primary first, then the others as listed."""
    indexed = list(enumerate(entry.contact_points))
    return sorted(indexed, key=lambda pair: (pair[1].role != "primary", pair[0]))


