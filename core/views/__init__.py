"""Platform pages: the health check and the error pages, one module per domain."""
