"""Customer URLs, mounted by lending/urls.py: `staff_patterns` at
/staff/customers/ (namespace "customers"), `portal_patterns` at /portal/
(namespace "portal"), `api_patterns` at /api/v1/ (no namespace)."""

from django.urls import path

from customers.api import customers as api
from customers.views import customers as views
from customers.views import portal as portal_views

staff_patterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/reveal-tax-id/", views.reveal_tax_id, name="reveal-tax-id"),
    path(
        "<int:pk>/reveal-date-of-birth/",
        views.reveal_date_of_birth,
        name="reveal-date-of-birth",
    ),
    path("<int:pk>/contact/", views.customer_contact, name="contact"),
    path("<int:pk>/addresses/new/", views.child_edit, {"kind": "address"}, name="address-add"),
    path(
        "<int:pk>/addresses/<int:row_pk>/edit/",
        views.child_edit,
        {"kind": "address"},
        name="address-edit",
    ),
    path(
        "<int:pk>/addresses/<int:row_pk>/remove/",
        views.child_remove,
        {"kind": "address"},
        name="address-remove",
    ),
    path("<int:pk>/phones/new/", views.child_edit, {"kind": "phone"}, name="phone-add"),
    path(
        "<int:pk>/phones/<int:row_pk>/edit/", views.child_edit, {"kind": "phone"}, name="phone-edit"
    ),
    path(
        "<int:pk>/phones/<int:row_pk>/remove/",
        views.child_remove,
        {"kind": "phone"},
        name="phone-remove",
    ),
    path("<int:pk>/consents/", views.customer_consents, name="consents"),
    path("<int:pk>/consents/record/", views.consent_record, name="consent-record"),
    path("<int:pk>/history/", views.customer_history, name="history"),
]

portal_patterns = [
    path("", portal_views.home, name="home"),
    path("signup/", portal_views.signup, name="signup"),
    path("profile/", portal_views.profile, name="profile"),
]

api_patterns = [
    path("customers/", api.CustomerCollectionView.as_view(), name="customers-api-list"),
    path("customers/<int:pk>/", api.CustomerDetailView.as_view(), name="customers-api-detail"),
    path(
        "customers/<int:pk>/reveal-tax-id/",
        api.CustomerRevealTaxIdView.as_view(),
        name="customers-api-reveal-tax-id",
    ),
    path(
        "customers/<int:pk>/reveal-date-of-birth/",
        api.CustomerRevealDateOfBirthView.as_view(),
        name="customers-api-reveal-date-of-birth",
    ),
]
