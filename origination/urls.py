"""URL patterns of origination, mounted by lending/urls.py."""

from django.urls import path

from origination import api, views

staff_patterns: list = [
    path("calculator/", views.loan_calculator, name="calculator"),
    path("calculator/schedule.csv", views.loan_calculator, {"fmt": "csv"}, name="calculator-csv"),
    path("calculator/schedule.pdf", views.loan_calculator, {"fmt": "pdf"}, name="calculator-pdf"),
    path("apr/", views.apr_calculator, name="apr-calculator"),
]
portal_patterns: list = [
    path("calculator/", views.portal_calculator, name="calculator"),
    path("calculator/schedule.csv", views.portal_calculator, {"fmt": "csv"}, name="calculator-csv"),
    path("calculator/schedule.pdf", views.portal_calculator, {"fmt": "pdf"}, name="calculator-pdf"),
]
api_patterns: list = [
    path("quotes", api.QuoteView.as_view(), name="quotes"),
    path("apr", api.AprView.as_view(), name="apr"),
]
