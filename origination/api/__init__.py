"""Origination REST API, one module per domain."""
