"""Reads over the shared kernel's tables (nothing here writes), one module per domain."""
