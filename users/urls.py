"""Staff routes (mounted at /staff/, namespace "users") and portal routes
(mounted at /portal/, namespace "portal"). "staff-home" and the landing
page are routed in lending/urls.py."""

from django.urls import path

from users import views

staff_patterns: list = [
    path("login/", views.staff_login, name="login"),
    path("login/verify/", views.otp_verify, name="otp-verify"),
    path("logout/", views.staff_logout, name="logout"),
    path("account/two-factor/", views.otp_setup, name="otp-setup"),
    path("account/two-factor/backup-codes/", views.otp_backup_codes, name="otp-backup-codes"),
    path("account/password/", views.StaffPasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", views.staff_reset["reset"], name="password-reset"),
    path("password-reset/sent/", views.staff_reset["done"], name="password-reset-done"),
    path("password-reset/complete/", views.staff_reset["complete"], name="password-reset-complete"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.staff_reset["confirm"],
        name="password-reset-confirm",
    ),
    path("admin/users/", views.staff_list, name="staff-list"),
    path("admin/users/new/", views.staff_create, name="staff-create"),
    path("admin/users/<int:pk>/", views.staff_edit, name="staff-edit"),
    path("admin/api-keys/", views.api_keys, name="api-keys"),
    path("admin/api-keys/new/", views.api_key_create, name="api-key-create"),
    path("admin/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]

portal_patterns: list = [
    path("login/", views.portal_login, name="login"),
    path("logout/", views.portal_logout, name="logout"),
    path("password-reset/", views.portal_reset["reset"], name="password-reset"),
    path("password-reset/sent/", views.portal_reset["done"], name="password-reset-done"),
    path(
        "password-reset/complete/", views.portal_reset["complete"], name="password-reset-complete"
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.portal_reset["confirm"],
        name="password-reset-confirm",
    ),
]
