"""Customers REST API, one module per domain."""
