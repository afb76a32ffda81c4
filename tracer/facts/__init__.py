"""Fact sources: readers that turn a dataset of triples into ``Fact`` records (mLAMA today)."""
