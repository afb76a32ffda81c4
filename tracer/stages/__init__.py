"""Stages: configuration, the per-task function executors run, and the driver that publishes."""
