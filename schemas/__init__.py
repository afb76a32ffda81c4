"""Single source of truth for every factrace table (see ``schemas.tables``)."""

from schemas.tables import PAGES, QUARANTINE, RUNS, SCHEMA_VERSION, SEGMENTS, TABLES, Column, Table, table

__all__ = ["PAGES", "QUARANTINE", "RUNS", "SCHEMA_VERSION", "SEGMENTS", "TABLES", "Column", "Table", "table"]
