"""Customers forms, one module per domain."""
