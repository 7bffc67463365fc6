"""Reads of the users app, one module per domain: staff (the administrators'
staff list), sign_in (accounts by username, django-axes failures),
two_factor (a person's own set-up) and api_keys. Nothing here writes."""
