"""URL patterns of this app, mounted by lending/urls.py: staff pages, portal
pages and API routes. Empty until the app's first pages land."""

staff_patterns: list = []
portal_patterns: list = []
api_patterns: list = []
