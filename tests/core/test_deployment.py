"""What a production deployment meets (QA of docs/deployment.md followed literally): the load balancer's
health probe at a web process's own address, what /health/ tells the public when the database fails, and
the hint for reaching an intranet feed server."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

from servicepulse.core.fetcher import AddressRefused, checked_address
from servicepulse.core.services import heartbeat_beat

PRODUCTION = {"ALLOWED_HOSTS": ["pulse.example.ac.uk"], "SECURE_SSL_REDIRECT": True}


@pytest.mark.django_db
@override_settings(**PRODUCTION)
def test_load_balancer_probes_health_at_the_process_address_over_plain_http(client) -> None:  # type: ignore[no-untyped-def]
    heartbeat_beat(name="w1")
    # What a load balancer sends to http://10.0.0.5:8000/health/: its own idea of the host, no X-Forwarded-Proto.
    response = client.get("/health/", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Every other page still refuses an unknown host and redirects plain HTTP.
    assert client.get("/status/", HTTP_HOST="10.0.0.5:8000").status_code == 400
    redirect = client.get("/status/", HTTP_HOST="pulse.example.ac.uk")
    assert (redirect.status_code, redirect["Location"]) == (301, "https://pulse.example.ac.uk/status/")


@pytest.mark.django_db
@override_settings(**PRODUCTION)
def test_health_still_answers_only_get(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/health/", HTTP_HOST="10.0.0.5:8000").status_code == 405


@pytest.mark.django_db
def test_health_names_no_database_detail_to_the_public_but_logs_it(
    client,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    detail = (
        'connection to server at "db.internal" (10.1.2.3), port 5432 failed: role "svc_pulse" does not exist'
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError(detail)

    monkeypatch.setattr(connection, "cursor", refuse)
    with caplog.at_level(logging.ERROR):
        response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "error")
    assert "db.internal" not in response.content.decode()
    assert "svc_pulse" not in response.content.decode()
    assert any("svc_pulse" in record.getMessage() for record in caplog.records)


@override_settings(SERVICEPULSE_FETCH_ALLOW_PRIVATE=False, SERVICEPULSE_FETCH_ALLOW_NETWORKS=[])
def test_refused_private_address_points_at_the_network_allow_list_not_the_test_switch() -> None:
    with pytest.raises(AddressRefused) as refused:
        checked_address("127.0.0.1", 80)
    message = str(refused.value)
    assert "SERVICEPULSE_FETCH_ALLOW_NETWORKS" in message
    assert "127.0.0.1/32" in message
    assert "SERVICEPULSE_FETCH_ALLOW_PRIVATE" not in message
    # The hint works: allowing that network lets the same address through.
    with override_settings(SERVICEPULSE_FETCH_ALLOW_NETWORKS=["127.0.0.1/32"]):
        assert checked_address("127.0.0.1", 80) == "127.0.0.1"
