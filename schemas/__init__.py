"""Single source of truth for every factrace table (see ``schemas.tables``)."""

from schemas.tables import (
    FACT_CLASSES,
    FACT_PRESENCE,
    FACTS,
    LANGUAGE_PAIRS,
    LANGUAGE_STATS,
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
    "FACT_CLASSES",
    "FACT_PRESENCE",
    "LANGUAGE_PAIRS",
    "LANGUAGE_STATS",
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
