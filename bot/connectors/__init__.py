"""Connectors turn platform updates into ``Incoming`` and ``Reply`` into platform calls."""
