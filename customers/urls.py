"""Customer URLs, mounted by lending/urls.py: `staff_patterns` at
/staff/customers/ (namespace "customers"), `portal_patterns` at /portal/
(namespace "portal"), `api_patterns` at /api/v1/ (no namespace)."""

from django.urls import path

from customers.api import customers as customers_api
from customers.views import customers as customers_views
from customers.views import portal as portal_views

staff_patterns = [
    path("", customers_views.customer_list, name="list"),
    path("new/", customers_views.customer_create, name="create"),
    path("<int:pk>/", customers_views.customer_detail, name="detail"),
    path("<int:pk>/edit/", customers_views.customer_edit, name="edit"),
    path("<int:pk>/reveal-tax-id/", customers_views.reveal_tax_id, name="reveal-tax-id"),
    path(
        "<int:pk>/reveal-date-of-birth/",
        customers_views.reveal_date_of_birth,
        name="reveal-date-of-birth",
    ),
    path("<int:pk>/contact/", customers_views.customer_contact, name="contact"),
    path(
        "<int:pk>/addresses/new/",
        customers_views.child_edit,
        {"kind": "address"},
        name="address-add",
    ),
    path(
        "<int:pk>/addresses/<int:row_pk>/edit/",
        customers_views.child_edit,
        {"kind": "address"},
        name="address-edit",
    ),
    path(
        "<int:pk>/addresses/<int:row_pk>/remove/",
        customers_views.child_remove,
        {"kind": "address"},
        name="address-remove",
    ),
    path("<int:pk>/phones/new/", customers_views.child_edit, {"kind": "phone"}, name="phone-add"),
    path(
        "<int:pk>/phones/<int:row_pk>/edit/",
        customers_views.child_edit,
        {"kind": "phone"},
        name="phone-edit",
    ),
    path(
        "<int:pk>/phones/<int:row_pk>/remove/",
        customers_views.child_remove,
        {"kind": "phone"},
        name="phone-remove",
    ),
    path("<int:pk>/consents/", customers_views.customer_consents, name="consents"),
    path("<int:pk>/consents/record/", customers_views.consent_record, name="consent-record"),
    path("<int:pk>/history/", customers_views.customer_history, name="history"),
]

portal_patterns = [
    path("", portal_views.home, name="home"),
    path("signup/", portal_views.signup, name="signup"),
    path("profile/", portal_views.profile, name="profile"),
]

api_patterns = [
    path("customers/", customers_api.CustomerCollectionView.as_view(), name="customers-api-list"),
    path(
        "customers/<int:pk>/",
        customers_api.CustomerDetailView.as_view(),
        name="customers-api-detail",
    ),
    path(
        "customers/<int:pk>/reveal-tax-id/",
        customers_api.CustomerRevealTaxIdView.as_view(),
        name="customers-api-reveal-tax-id",
    ),
    path(
        "customers/<int:pk>/reveal-date-of-birth/",
        customers_api.CustomerRevealDateOfBirthView.as_view(),
        name="customers-api-reveal-date-of-birth",
    ),
]
