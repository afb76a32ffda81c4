"""Wikitext → clean text, with WikiExtractor's semantics (reimplemented; see docs/extraction.md)."""
