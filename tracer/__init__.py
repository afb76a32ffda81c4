"""factrace core library: pure Python, importable without Spark or torch."""

__version__ = "0.1.0"
