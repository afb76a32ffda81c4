"""Tokenizers: loading them from any local form, naming them stably, encoding fast and exactly."""
