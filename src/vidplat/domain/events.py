"""Domain events: what happened, said once, as a structured record on the `vidplat.events` logger.

The log configuration renders them; the metrics adapter counts them from the same records, so
they are recorded whatever the log level shows (the events logger itself is never filtered).
An event's fields are the record's extras, next to `domain_event`, its stable name.
"""

from __future__ import annotations

import logging

EVENTS = logging.getLogger("vidplat.events")


def record(name: str, message: str, *, level: int = logging.INFO, **fields: object) -> None:
    """Announce event `name` (e.g. `video_ready`) with a human `message` and its fields."""
    EVENTS.log(level, message, extra={"domain_event": name, **fields})
