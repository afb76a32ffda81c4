"""Spark wiring: the session and a task runner over ``mapInArrow``. Imports pyspark."""
