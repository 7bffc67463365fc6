"""URL patterns of servicing, mounted by lending/urls.py. Each page or API
module declares its own pattern lists; this file only joins them."""

from servicing.api import actions as api_actions
from servicing.api import documents as api_documents
from servicing.api import life as api_life
from servicing.api import lifecycle as api_lifecycle
from servicing.api import loans as api_loans
from servicing.api import notes as api_notes
from servicing.api import portal as api_portal
from servicing.api import requests as api_requests
from servicing.views import files, life, loans, portal
from servicing.views import requests as request_views

staff_patterns: list = [
    *loans.staff_patterns,
    *life.staff_patterns,
    *files.staff_patterns,
    *request_views.staff_patterns,
]
portal_patterns: list = [*portal.portal_patterns, *request_views.portal_patterns]
api_patterns: list = [
    *api_loans.api_patterns,
    *api_actions.api_patterns,
    *api_life.api_patterns,
    *api_notes.api_patterns,
    *api_documents.api_patterns,
    *api_lifecycle.api_patterns,
    *api_requests.api_patterns,
    *api_portal.api_patterns,
]
