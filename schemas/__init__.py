"""Single source of truth for every factrace table (see ``schemas.tables``)."""

from schemas.tables import (
    FACT_PRESENCE,
    FACTS,
    NEURONS,
    PAGES,
    PREDICTIONS,
    QUARANTINE,
    RUNS,
    SCHEMA_VERSION,
    SEGMENTS,
    TABLES,
    Column,
    Table,
    table,
)

__all__ = [
    "FACTS",
    "FACT_PRESENCE",
    "NEURONS",
    "PAGES",
    "PREDICTIONS",
    "QUARANTINE",
    "RUNS",
    "SCHEMA_VERSION",
    "SEGMENTS",
    "TABLES",
    "Column",
    "Table",
    "table",
]
