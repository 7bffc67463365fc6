"""URL patterns of origination, mounted by lending/urls.py."""

from django.urls import path

from origination.api import applications as applications_api
from origination.api import calculators as calculators_api
from origination.api import closing as closing_api
from origination.api import decision as decision_api
from origination.api import disbursement as disbursement_api
from origination.api import kyc as kyc_api
from origination.api import pipeline as pipeline_api
from origination.api import products as products_api
from origination.api import underwriting as underwriting_api
from origination.views import applications as applications_views
from origination.views import calculators as calculators_views
from origination.views import disbursement as disbursement_views
from origination.views import kyc as kyc_views
from origination.views import pipeline as pipeline_views
from origination.views import portal as portal_views
from origination.views import products as products_views
from origination.views import underwriting as underwriting_views

staff_patterns: list = [
    path("calculator/", calculators_views.loan_calculator, name="calculator"),
    path(
        "calculator/schedule.csv",
        calculators_views.loan_calculator,
        {"fmt": "csv"},
        name="calculator-csv",
    ),
    path(
        "calculator/schedule.pdf",
        calculators_views.loan_calculator,
        {"fmt": "pdf"},
        name="calculator-pdf",
    ),
    path("apr/", calculators_views.apr_calculator, name="apr-calculator"),
    path("compliance/", kyc_views.compliance_queue, name="compliance-queue"),
    path("compliance/<int:hit_id>/", kyc_views.compliance_detail, name="compliance-detail"),
    path("compliance/<int:hit_id>/clear/", kyc_views.compliance_clear, name="compliance-clear"),
    path(
        "compliance/<int:hit_id>/confirm/",
        kyc_views.compliance_confirm,
        name="compliance-confirm",
    ),
    path(
        "applications/<int:pk>/screen/",
        kyc_views.screen_application,
        name="application-screen",
    ),
    # staff applications
    path("applications/", pipeline_views.board, name="application-board"),
    path("applications/new/", applications_views.new_application, name="application-new"),
    path("applications/metrics/", pipeline_views.board_metrics, name="application-metrics"),
    path(
        "applications/<int:pk>/", applications_views.application_detail, name="application-detail"
    ),
    path(
        "applications/<int:pk>/bureau-pulls/<int:pull_pk>/report/",
        applications_views.reveal_bureau_report,
        name="application-bureau-report",
    ),
    path(
        "applications/<int:pk>/submit/",
        applications_views.submit_application,
        name="application-submit",
    ),
    path("applications/<int:pk>/assign/", applications_views.assign, name="application-assign"),
    path(
        "applications/<int:pk>/assign-me/",
        applications_views.assign_to_me,
        name="application-assign-me",
    ),
    path(
        "applications/<int:pk>/return/",
        applications_views.return_for_info,
        name="application-return",
    ),
    path(
        "applications/<int:pk>/withdraw/", applications_views.withdraw, name="application-withdraw"
    ),
    path("applications/<int:pk>/approve/", underwriting_views.approve, name="application-approve"),
    path(
        "applications/<int:pk>/approve-conditionally/",
        underwriting_views.approve_conditionally,
        name="application-approve-conditionally",
    ),
    path(
        "applications/<int:pk>/counter/",
        underwriting_views.counter_offer,
        name="application-counter",
    ),
    path("applications/<int:pk>/decline/", underwriting_views.decline, name="application-decline"),
    path(
        "applications/<int:pk>/conditions/",
        underwriting_views.add_condition,
        name="application-condition",
    ),
    path(
        "applications/<int:pk>/conditions/<int:condition_id>/<str:action>/",
        underwriting_views.resolve_condition,
        name="application-condition-resolve",
    ),
    path(
        "applications/<int:pk>/documents/",
        underwriting_views.upload_document,
        name="application-upload",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_id>/verify/",
        underwriting_views.verify_document,
        name="application-document-verify",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_id>/reject/",
        underwriting_views.reject_document,
        name="application-document-reject",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_id>/download/",
        underwriting_views.download_document,
        name="application-document-download",
    ),
    path(
        "applications/<int:pk>/generated/<int:document_id>/",
        underwriting_views.download_generated,
        name="application-generated-download",
    ),
    path(
        "applications/<int:pk>/bank-account/",
        disbursement_views.set_bank_account,
        name="application-bank-account",
    ),
    path(
        "applications/<int:pk>/disburse/", disbursement_views.disburse, name="application-disburse"
    ),
    path("underwriting/", underwriting_views.queue, name="underwriting-queue"),
    path("disbursements/", disbursement_views.disbursement_files, name="disbursement-files"),
    path(
        "disbursements/<int:batch_id>/",
        disbursement_views.disbursement_file_download,
        name="disbursement-file-download",
    ),
]
portal_patterns: list = [
    path("calculator/", calculators_views.portal_calculator, name="calculator"),
    path(
        "calculator/schedule.csv",
        calculators_views.portal_calculator,
        {"fmt": "csv"},
        name="calculator-csv",
    ),
    path(
        "calculator/schedule.pdf",
        calculators_views.portal_calculator,
        {"fmt": "pdf"},
        name="calculator-pdf",
    ),
    # borrower applications (origination.views.portal)
    path("apply/", portal_views.apply, name="apply"),
    path("apply/<int:pk>/loan/", portal_views.apply, name="apply-loan"),
    path("apply/<int:pk>/about/", portal_views.apply_about, name="apply-about"),
    path("apply/<int:pk>/consents/", portal_views.apply_consents, name="apply-consents"),
    path("apply/<int:pk>/review/", portal_views.apply_review, name="apply-review"),
    path("applications/", portal_views.applications, name="applications"),
    path("applications/<int:pk>/", portal_views.application_detail, name="application-detail"),
    path(
        "applications/<int:pk>/result/",
        portal_views.application_result,
        name="application-result",
    ),
    path(
        "applications/<int:pk>/upload/",
        portal_views.application_upload,
        name="application-upload",
    ),
    path(
        "applications/<int:pk>/accept/",
        portal_views.application_accept,
        name="application-accept",
    ),
    path(
        "applications/<int:pk>/consent/",
        portal_views.application_consent,
        name="application-consent",
    ),
    path("applications/<int:pk>/sign/", portal_views.application_sign, name="application-sign"),
    path(
        "applications/<int:pk>/package.pdf",
        portal_views.application_package,
        name="application-package",
    ),
    path(
        "applications/<int:pk>/signed/",
        portal_views.application_signed,
        name="application-signed",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_id>/",
        portal_views.application_document,
        name="application-document",
    ),
    path("applications/<int:pk>/bank/", portal_views.application_bank, name="application-bank"),
    path(
        "applications/<int:pk>/withdraw/",
        portal_views.application_withdraw,
        name="application-withdraw",
    ),
]
api_patterns: list = [
    path("quotes", calculators_api.QuoteView.as_view(), name="quotes"),
    path("apr", calculators_api.AprView.as_view(), name="apr"),
]

# --- applications API (/api/v1/applications/...) ------------------------------

_APP = "applications/<int:pk>/"
api_patterns += [
    path(
        "applications/",
        applications_api.ApplicationListCreateView.as_view(),
        name="applications-api",
    ),
    path(_APP, applications_api.ApplicationDetailView.as_view(), name="applications-api-detail"),
    path(_APP + "submit/", decision_api.SubmitView.as_view(), name="applications-api-submit"),
    path(_APP + "return/", applications_api.ReturnView.as_view(), name="applications-api-return"),
    path(
        _APP + "withdraw/",
        applications_api.WithdrawView.as_view(),
        name="applications-api-withdraw",
    ),
    path(_APP + "assign/", applications_api.AssignView.as_view(), name="applications-api-assign"),
    path(
        _APP + "consents/",
        applications_api.ConsentsView.as_view(),
        name="applications-api-consents",
    ),
    path(_APP + "decision/", decision_api.DecisionView.as_view(), name="applications-api-decision"),
    path(
        _APP + "approve/", underwriting_api.ApproveView.as_view(), name="applications-api-approve"
    ),
    path(
        _APP + "approve-conditionally/",
        underwriting_api.ApproveConditionallyView.as_view(),
        name="applications-api-approve-conditionally",
    ),
    path(
        _APP + "counter-offer/",
        underwriting_api.CounterOfferView.as_view(),
        name="applications-api-counter-offer",
    ),
    path(
        _APP + "decline/", underwriting_api.DeclineView.as_view(), name="applications-api-decline"
    ),
    path(
        _APP + "conditions/",
        underwriting_api.ConditionAddView.as_view(),
        name="applications-api-conditions",
    ),
    path(
        _APP + "conditions/<int:cid>/satisfy/",
        underwriting_api.ConditionSatisfyView.as_view(),
        name="applications-api-condition-satisfy",
    ),
    path(
        _APP + "conditions/<int:cid>/waive/",
        underwriting_api.ConditionWaiveView.as_view(),
        name="applications-api-condition-waive",
    ),
    path(
        _APP + "documents/",
        closing_api.DocumentUploadView.as_view(),
        name="applications-api-documents",
    ),
    path(
        _APP + "documents/<int:did>/download/",
        closing_api.DocumentDownloadView.as_view(),
        name="applications-api-document-download",
    ),
    path(
        _APP + "documents/<int:did>/verify/",
        underwriting_api.DocumentVerifyView.as_view(),
        name="applications-api-document-verify",
    ),
    path(
        _APP + "documents/<int:did>/reject/",
        underwriting_api.DocumentRejectView.as_view(),
        name="applications-api-document-reject",
    ),
    path(
        _APP + "generated-documents/<int:gid>/download/",
        closing_api.GeneratedDocumentDownloadView.as_view(),
        name="applications-api-generated-download",
    ),
    path(_APP + "offers/", closing_api.OffersView.as_view(), name="applications-api-offers"),
    path(
        _APP + "offers/<int:oid>/accept/",
        closing_api.OfferAcceptView.as_view(),
        name="applications-api-offer-accept",
    ),
    path(_APP + "sign/", closing_api.SignView.as_view(), name="applications-api-sign"),
    path(
        _APP + "bank-account/",
        disbursement_api.BankAccountView.as_view(),
        name="applications-api-bank-account",
    ),
    path(
        _APP + "disburse/",
        disbursement_api.DisburseView.as_view(),
        name="applications-api-disburse",
    ),
]

# --- loan products admin (staff; origination.manage_products) -----------------

staff_patterns += [
    path("products/", products_views.product_list, name="product-list"),
    path("products/new/", products_views.product_create, name="product-create"),
    path("products/<int:product_id>/", products_views.product_detail, name="product-detail"),
    path(
        "products/<int:product_id>/edit/<slug:section>/",
        products_views.product_edit,
        name="product-edit",
    ),
]

# --- sanctions review API and pipeline metrics --------------------------------

api_patterns += [
    path("compliance/hits/", kyc_api.HitListView.as_view(), name="compliance-api-hits"),
    path(
        "compliance/hits/<int:pk>/clear/",
        kyc_api.HitClearView.as_view(),
        name="compliance-api-hit-clear",
    ),
    path(
        "compliance/hits/<int:pk>/confirm/",
        kyc_api.HitConfirmView.as_view(),
        name="compliance-api-hit-confirm",
    ),
    path(_APP + "screen/", kyc_api.ScreenView.as_view(), name="applications-api-screen"),
    path(
        "applications/metrics/",
        pipeline_api.MetricsView.as_view(),
        name="applications-api-metrics",
    ),
]

# --- offered loan products, read-only (integrators) ---------------------------

api_patterns += [
    path("products/", products_api.ProductListView.as_view(), name="products-api"),
    path(
        "products/<str:ref>/", products_api.ProductDetailView.as_view(), name="products-api-detail"
    ),
]
