"""Every write of servicing, one function per use case (see ARCHITECTURE.md)."""
