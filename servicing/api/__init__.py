"""Servicing REST API."""
