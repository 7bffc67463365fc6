"""The pipeline metrics panel: htmx gets the fragment it swaps into the
board; the same address opened directly is the whole staff page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_htmx_gets_the_fragment(staff_client):
    client, _ = staff_client("loan_officer")
    response = client.get(reverse("origination:application-metrics"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="pipeline-metrics"')
    assert "<html" not in html and "<title>" not in html
    assert '<h2 id="metrics-title">Pipeline metrics</h2>' in html
    assert "HX-Request" in response["Vary"]


def test_opened_directly_it_is_a_whole_page_with_a_title(staff_client):
    client, _ = staff_client("loan_officer")
    url = reverse("origination:application-metrics")
    response = client.get(url, {"product": "", "view": "list"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "css/app" in html
    assert "<title>Pipeline metrics · " in html
    assert '<h1 id="metrics-title">Pipeline metrics</h1>' in html
    assert html.count("Pipeline metrics</h") == 1  # the panel's own h2 is not repeated
    assert 'data-metric="time_to_decision"' in html
    back = reverse("origination:application-board") + "?product="
    assert f'href="{back}"' in html
    assert "HX-Request" in response["Vary"]
