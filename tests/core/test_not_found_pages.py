"""Under DEBUG (as `make run` runs) a 404 is the product's page, or the
API's JSON error under /api/, never Django's technical page that lists
every URL pattern; APPEND_SLASH redirects and static files still work."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import login_staff, make_staff
from tests.customers.conftest import borrower_client, make_borrower

pytestmark = pytest.mark.django_db

TECHNICAL = ("Using the URLconf defined in", "Django tried these URL patterns", "Raised by:")


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True


def assert_product_404(response):
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "There is nothing at this address, or you may not see it." in html
    for text in TECHNICAL:
        assert text not in html


def assert_json_404(response):
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}
    assert not any(text in response.content.decode() for text in TECHNICAL)


@pytest.fixture
def officer():
    return login_staff(Client(), make_staff("loan_officer"))


def test_unknown_staff_url(officer):
    assert_product_404(officer.get("/staff/no-such-area/"))
    assert_product_404(Client().get("/staff/no-such-area/"))


def test_unknown_url_without_a_slash_is_404_not_a_redirect(officer):
    assert_product_404(officer.get("/staff/no-such-area"))
    assert_product_404(Client().get("/no-such-page.html"))


def test_unknown_portal_url():
    customer = make_borrower("nf@example.com")
    assert_product_404(borrower_client(customer).get("/portal/no-such-page/"))
    assert_product_404(Client().get("/portal/no-such-page/"))


def test_unknown_api_url_is_json():
    assert_json_404(Client().get("/api/v1/no-such-thing/"))
    assert_json_404(Client().get("/api/v2/"))


def test_http404_raised_in_a_staff_view(officer):
    # a loan id that does not exist: the view raises Http404
    assert_product_404(officer.get(reverse("servicing:loan-detail", args=[987654])))


def test_http404_raised_in_a_portal_view():
    customer = make_borrower("nf2@example.com")
    client = borrower_client(customer)
    assert_product_404(client.get(reverse("portal:application-detail", args=[987654])))


def test_append_slash_still_redirects(officer):
    response = officer.get("/staff/customers")
    assert response.status_code == 301
    assert response["Location"] == "/staff/customers/"
    assert officer.get(response["Location"]).status_code == 200


def test_static_files_still_serve():
    # A fresh client loads the middleware with DEBUG on: WhiteNoise then
    # serves from the finders, as under `make run`.
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert b"{" in b"".join(response.streaming_content)
    assert_product_404(Client().get("/static/css/no-such-file.css"))


def test_other_statuses_are_untouched(officer):
    servicer = login_staff(Client(), make_staff("servicing_agent"))
    assert servicer.get(reverse("origination:product-list")).status_code == 403
    assert officer.get(reverse("staff-home")).status_code == 200
