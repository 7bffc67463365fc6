"""Servicing reads (nothing here writes), one module per domain."""
