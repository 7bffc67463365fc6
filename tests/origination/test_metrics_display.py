"""Pipeline metrics (time to decision, time to fund) on the staff board and
at /api/v1/applications/metrics/, computed from applications whose
timestamps the test sets."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from origination.models import Application
from tests.origination.test_api_applications import api_key_client
from tests.origination.test_applications import CLEAN, draft, person

pytestmark = pytest.mark.django_db
METRICS = "/api/v1/applications/metrics/"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def timed():
    """Three decided applications (1 h, 2 h, 10 h after submission), one of
    them funded 2 days 3 hours after submission, and one never decided."""
    ada = person(CLEAN)
    now = timezone.now() - timedelta(days=5)
    apps = [draft(ada) for _ in range(4)]
    for app, hours in zip(apps, (1, 2, 10), strict=False):
        Application.objects.filter(pk=app.pk).update(
            submitted_at=now, decided_at=now + timedelta(hours=hours)
        )
    Application.objects.filter(pk=apps[1].pk).update(funded_at=now + timedelta(days=2, hours=3))
    Application.objects.filter(pk=apps[3].pk).update(submitted_at=now)
    return apps


def _panel(html: str) -> dict[str, tuple[str, str, str]]:
    rows = re.findall(
        r'<tr data-metric="(\w+)"><th>[^<]*</th><td class="num" data-count>(\d+)</td>'
        r'<td class="num" data-median>([^<]*)</td><td class="num" data-p90>([^<]*)</td>',
        html,
    )
    return {key: (count, median, p90) for key, count, median, p90 in rows}


def _board_panel(client, params=None) -> dict[str, tuple[str, str, str]]:
    """The board (its "Pipeline metrics" placeholder loads the panel with the
    board's own filters) and the panel htmx fetches from it."""
    board = client.get(reverse("origination:application-board"), params or {})
    assert board.status_code == 200
    html = board.content.decode()
    assert "Pipeline metrics" in html
    match = re.search(r'<section id="pipeline-metrics" hx-get="([^"]+)" hx-trigger="load"', html)
    assert match, "no metrics placeholder on the board"
    url = match.group(1).replace("&amp;", "&")
    assert url.startswith(reverse("origination:application-metrics") + "?")
    for key, value in (params or {}).items():
        assert f"{key}={value}" in url
    panel = client.get(url, HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    assert "Pipeline metrics" in panel.content.decode()
    return _panel(panel.content.decode())


def test_board_shows_median_and_p90(timed, staff_client):
    client, officer = staff_client("loan_officer")
    assert _board_panel(client) == {
        "time_to_decision": ("3", "2 h 0 min", "10 h 0 min"),
        "time_to_fund": ("1", "2 d 3 h", "2 d 3 h"),
    }

    # the board's filters narrow the figures: only the 10-hour one is assigned to me
    Application.objects.filter(pk=timed[2].pk).update(assigned_to=officer)
    assert _board_panel(client, {"officer": "me"}) == {
        "time_to_decision": ("1", "10 h 0 min", "10 h 0 min"),
        "time_to_fund": ("0", "—", "—"),
    }
    unassigned = _board_panel(client, {"officer": "none"})
    assert unassigned["time_to_decision"] == ("2", "1 h 30 min", "2 h 0 min")
    assert unassigned["time_to_fund"] == ("1", "2 d 3 h", "2 d 3 h")
    # one state chosen: only that state (all the timed applications are drafts)
    assert _board_panel(client, {"state": "declined"})["time_to_decision"] == ("0", "—", "—")
    assert _board_panel(client, {"state": "draft"})["time_to_decision"][0] == "3"
    assert _board_panel(client, {"state": "all"})["time_to_decision"][0] == "3"

    agent, _ = staff_client("servicing_agent")
    assert agent.get(reverse("origination:application-metrics")).status_code == 403


def test_metrics_api_returns_the_same_figures(timed, staff_client):
    client, officer = staff_client("loan_officer")
    response = client.get(METRICS)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "time_to_decision": {
            "count": 3,
            "median_seconds": 7200.0,
            "p90_seconds": 36000.0,
            "p95_seconds": 36000.0,
        },
        "time_to_fund": {
            "count": 1,
            "median_seconds": 183600.0,
            "p90_seconds": 183600.0,
            "p95_seconds": 183600.0,
        },
    }
    Application.objects.filter(pk=timed[2].pk).update(assigned_to=officer)
    mine = client.get(METRICS, {"officer": officer.pk}).json()
    assert mine["time_to_decision"] == {
        "count": 1,
        "median_seconds": 36000.0,
        "p90_seconds": 36000.0,
        "p95_seconds": 36000.0,
    }
    assert mine["time_to_fund"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
        "p95_seconds": None,
    }
    # the state filter: every timed application is still a draft
    assert client.get(METRICS, {"state": "declined"}).json()["time_to_decision"]["count"] == 0
    assert client.get(METRICS, {"state": "draft"}).json()["time_to_decision"]["count"] == 3
    # an API key with the read scope sees the same
    key = api_key_client("applications:read")
    assert key.get(METRICS).json()["time_to_decision"]["median_seconds"] == 7200.0


def test_metrics_api_bad_filters_and_access(timed, staff_client):
    client, _ = staff_client("loan_officer")
    bad = client.get(METRICS, {"state": "nonsense", "officer": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"state", "officer"}
    agent, _ = staff_client("servicing_agent")
    assert agent.get(METRICS).status_code == 403
    assert api_key_client("loans:read").get(METRICS).status_code == 403


def test_no_figures_yet(staff_client):
    client, _ = staff_client("loan_officer")
    assert _board_panel(client) == {
        "time_to_decision": ("0", "—", "—"),
        "time_to_fund": ("0", "—", "—"),
    }
    body = client.get(METRICS).json()
    assert body["time_to_decision"]["count"] == 0
    assert body["time_to_fund"]["median_seconds"] is None
