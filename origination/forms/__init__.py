"""Origination forms, one module per domain."""
