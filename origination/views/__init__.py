"""Origination pages (staff and portal), one module per domain."""
