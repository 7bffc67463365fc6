"""Use cases of the shared kernel, one module per domain (eod: queueing end of day)."""
