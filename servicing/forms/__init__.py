"""Servicing forms, one module per domain."""
