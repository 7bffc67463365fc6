"""/api/v1/products/: the loan products an integrator may apply for, read
through the real product services on PostgreSQL."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from origination.services.products import create_product, default_product_data, revise_product
from tests.conftest import login_staff, make_staff
from tests.factories import UserFactory
from users.authentication import hash_secret
from users.models import ApiKey, User

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"

PERSONAL_GRID = [
    (760, 850, 12, 36, "7.9900"),
    (760, 850, 37, 60, "8.9900"),
    (720, 759, 12, 36, "10.9900"),
    (720, 759, 37, 60, "11.9900"),
    (680, 719, 12, 36, "14.9900"),
    (680, 719, 37, 60, "15.9900"),
    (640, 679, 12, 36, "19.9900"),
    (640, 679, 37, 60, "21.4900"),
    (580, 639, 12, 36, "26.9900"),
    (580, 639, 37, 60, "28.9900"),
]


def key_client(*scopes: str) -> Client:
    owner = User.objects.create(username=f"api:products-{'-'.join(scopes)}", kind="integration")
    ApiKey.objects.create(
        name="partner",
        prefix=f"lk_{owner.pk:08d}",
        key_hash=hash_secret("s3cret"),
        scopes=list(scopes),
        user=owner,
        created_by=UserFactory(),
    )
    return Client(HTTP_AUTHORIZATION=f"Api-Key lk_{owner.pk:08d}.s3cret")


@pytest.fixture
def api():
    return key_client("applications:read")


@pytest.fixture
def personal():
    return create_product(code="personal-loan", data=default_product_data())


@pytest.fixture
def auto():
    """A second product: a flat fee paid separately, no list of terms (any
    whole month within the limits), one pricing band, a required document."""
    return create_product(
        code="auto-refi",
        data={
            **default_product_data(),
            "name": "Auto refinance",
            "description": "Refinance a car loan.",
            "min_amount": Decimal("5000.00"),
            "max_amount": Decimal("50000.50"),
            "min_term": 24,
            "max_term": 30,
            "allowed_terms": [],
            "fees": [
                {
                    "name": "title",
                    "kind": "flat",
                    "value": "75",
                    "treatment": "paid_separately",
                    "finance_charge": False,
                }
            ],
            "pricing_grid": [
                {
                    "min_score": 600,
                    "max_score": 850,
                    "min_term": 24,
                    "max_term": 30,
                    "annual_rate": "0.0725",
                }
            ],
            "required_documents": [{"kind": "title", "label": "Vehicle title"}],
            "late_fee_text": "",
            "offer_valid_days": 14,
        },
    )


def personal_body(product) -> dict:
    return {
        "id": product.pk,
        "code": "personal-loan",
        "version": product.version,
        "name": "Personal installment loan",
        "description": "Unsecured fixed-rate personal loan, $1,000 to $35,000, 12 to 60 months.",
        "currency": "USD",
        "min_amount": "1000.00",
        "max_amount": "35000.00",
        "min_term": 12,
        "max_term": 60,
        "terms_offered": [12, 24, 36, 48, 60],
        "repayment_every": 1,
        "repayment_unit": "months",
        "interest_method": "declining_balance",
        "amortization": "equal_installments",
        "day_count": "30/360",
        # issue 13: the products' named schedule conventions are shown too
        "installment_method": "nominal_rate",
        "equal_principal_rounding": "cents",
        "fees": [
            {
                "name": "origination",
                "kind": "percent",
                "percent": "3.0000",
                "amount": None,
                "treatment": "withheld",
                "finance_charge": True,
            }
        ],
        "pricing_grid": [
            {
                "min_score": low,
                "max_score": high,
                "min_term": t0,
                "max_term": t1,
                "annual_rate": rate,
            }
            for low, high, t0, t1, rate in PERSONAL_GRID
        ],
        "required_documents": [],
        "late_fee_text": "If a payment is more than 10 days late, you will be charged $25.00.",
        "offer_valid_days": 30,
        "application_valid_days": 60,
    }


# --- list -------------------------------------------------------------------------------------


def test_list_shows_the_offered_products_with_exact_figures(api, personal, auto):
    response = api.get(LIST)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    first, second = body["results"]  # by name
    assert first == {
        "id": auto.pk,
        "code": "auto-refi",
        "version": 1,
        "name": "Auto refinance",
        "description": "Refinance a car loan.",
        "currency": "USD",
        "min_amount": "5000.00",
        "max_amount": "50000.50",
        "min_term": 24,
        "max_term": 30,
        "terms_offered": [24, 25, 26, 27, 28, 29, 30],
        "repayment_every": 1,
        "repayment_unit": "months",
        "interest_method": "declining_balance",
        "amortization": "equal_installments",
        "day_count": "30/360",
        # issue 13: the products' named schedule conventions are shown too
        "installment_method": "nominal_rate",
        "equal_principal_rounding": "cents",
        "fees": [
            {
                "name": "title",
                "kind": "flat",
                "percent": None,
                "amount": "75.00",
                "treatment": "paid_separately",
                "finance_charge": False,
            }
        ],
        "pricing_grid": [
            {
                "min_score": 600,
                "max_score": 850,
                "min_term": 24,
                "max_term": 30,
                "annual_rate": "7.2500",
            }
        ],
        "required_documents": [{"kind": "title", "label": "Vehicle title"}],
        "late_fee_text": "",
        "offer_valid_days": 14,
        "application_valid_days": 60,
    }
    assert second == personal_body(personal)
    # nothing of the lender's policy leaks
    assert "rule_set" not in second and "scorecard" not in second


def test_a_revised_product_lists_only_its_offered_version(api, personal):
    revised = revise_product(personal, {"max_amount": Decimal("40000.00")})
    results = api.get(LIST).json()["results"]
    assert [(r["id"], r["version"], r["max_amount"]) for r in results] == [
        (revised.pk, 2, "40000.00")
    ]


def test_list_query_count_is_pinned(api, personal, django_assert_num_queries):
    # API key, then count and page: the same for one product as for six.
    api.get(LIST)  # the key's first use also stamps last_used_at
    with django_assert_num_queries(3):
        assert api.get(LIST).json()["count"] == 1
    for n in range(5):
        create_product(code=f"extra-{n}", data=default_product_data())
    with django_assert_num_queries(3):
        assert api.get(LIST).json()["count"] == 6


def test_list_pages(api, personal, auto):
    body = api.get(LIST + "?page_size=1&page=2").json()
    assert body["count"] == 2
    assert [r["code"] for r in body["results"]] == ["personal-loan"]
    assert body["next"] is None and body["previous"] is not None


# --- detail -----------------------------------------------------------------------------------


def test_detail_by_id_and_by_code(api, personal, auto, django_assert_num_queries):
    api.get(LIST)  # the key's first use also stamps last_used_at
    with django_assert_num_queries(2):  # API key, product
        by_id = api.get(f"{LIST}{personal.pk}/")
    assert by_id.status_code == 200
    assert by_id.json() == personal_body(personal)
    by_code = api.get(f"{LIST}auto-refi/")
    assert by_code.status_code == 200
    assert (by_code.json()["id"], by_code.json()["terms_offered"]) == (auto.pk, list(range(24, 31)))


def test_an_inactive_version_is_404_by_id_and_its_code_gives_the_offered_one(api, personal):
    revised = revise_product(personal, {"name": "Personal loan"})
    old = api.get(f"{LIST}{personal.pk}/")
    assert old.status_code == 404
    assert old.json() == {
        "code": "not_found",
        "message": f"No product '{personal.pk}' is offered.",
        "fields": {},
    }
    current = api.get(f"{LIST}personal-loan/").json()
    assert (current["id"], current["version"], current["name"]) == (revised.pk, 2, "Personal loan")


def test_unknown_product_is_404(api, personal):
    for ref in ("no-such-product", "999999999", "99999999999999999999999"):
        response = api.get(f"{LIST}{ref}/")
        assert response.status_code == 404, ref
        assert response.json()["code"] == "not_found"


def test_an_id_wins_over_a_code_made_of_digits(api, personal):
    digits = create_product(code=str(personal.pk), data={**default_product_data(), "name": "Z"})
    assert api.get(f"{LIST}{personal.pk}/").json()["id"] == personal.pk
    assert api.get(f"{LIST}{digits.pk}/").json()["code"] == str(personal.pk)


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, f"{LIST}personal-loan/"])
def test_no_key_is_refused(personal, path):
    response = Client().get(path)
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", [LIST, f"{LIST}personal-loan/"])
def test_a_key_without_the_applications_scope_is_403(personal, path):
    response = key_client("loans:read", "customers:read", "quotes:read").get(path)
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This API key lacks the scope applications:read.",
        "fields": {},
    }


def test_a_write_only_key_may_not_read(personal):
    assert key_client("applications:write").get(LIST).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", [LIST, f"{LIST}personal-loan/"])
def test_writes_are_405_and_change_nothing(api, personal, method, path):
    response = getattr(api, method)(path, {"name": "Hacked"}, content_type="application/json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    personal.refresh_from_db()
    assert (personal.name, personal.is_active) == ("Personal installment loan", True)
    assert personal.__class__.objects.count() == 1


def test_staff_with_the_applications_permission_may_read(personal):
    officer = login_staff(Client(), make_staff("loan_officer"))
    assert officer.get(LIST).json()["count"] == 1
    servicer = login_staff(Client(), make_staff("servicing_agent"))
    assert servicer.get(LIST).status_code == 403


# --- schema -----------------------------------------------------------------------------------


def test_schema_documents_both_paths_read_only():
    spec = json.loads(Client().get("/api/v1/schema/?format=json").content)
    assert set(spec["paths"]["/api/v1/products/"]) == {"get"}
    assert set(spec["paths"]["/api/v1/products/{ref}/"]) == {"get"}
    detail = spec["paths"]["/api/v1/products/{ref}/"]["get"]
    assert set(detail["responses"]) == {"200", "401", "403", "404"}
    product = spec["components"]["schemas"]["Product"]
    assert product["properties"]["min_amount"]["format"] == "decimal"
    assert product["properties"]["min_amount"]["pattern"] == r"^-?\d{0,12}(?:\.\d{0,2})?$"
    band = spec["components"]["schemas"]["PricingBand"]["properties"]
    assert "percent" in band["annual_rate"]["description"]
