"""Servicing pages: staff back office and borrower portal."""
