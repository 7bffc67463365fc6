"""Servicing pages (portal)."""

staff_patterns: list = []
portal_patterns: list = []
