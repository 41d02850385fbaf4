"""Production settings: refuse to start without real secrets (naming the variable), and pass Django's
deployment checks when they are given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _prod_env(tmp_path: Path) -> dict[str, str]:
    # Browser tests in the same worker set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment never has it.
    leaked = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_") and k not in leaked}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.prod",
        "SERVICEPULSE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SERVICEPULSE_SECRET_KEY": "k" * 10 + "9f8e7d6c5b4a3!@#$%^&*()-_=+[]{}qwertyuiopasdfghjkl",
        "SERVICEPULSE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SERVICEPULSE_ALLOWED_HOSTS": "pulse.example.ac.uk",
    }


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    result = _check(_prod_env(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_each_secret(tmp_path: Path) -> None:
    for name in ("SERVICEPULSE_SECRET_KEY", "SERVICEPULSE_ENCRYPTION_KEY", "SERVICEPULSE_ALLOWED_HOSTS"):
        env = _prod_env(tmp_path)
        del env[name]
        result = _check(env)
        assert result.returncode != 0
        assert f"environment variable {name} is required but not set" in result.stderr
    weak = {**_prod_env(tmp_path), "SERVICEPULSE_SECRET_KEY": "changeme"}
    assert "must be a random string" in _check(weak).stderr


def test_production_refuses_to_lift_the_outbound_address_guard(tmp_path: Path) -> None:
    # Security review: the tests' switch that lets fetches reach loopback and private addresses could be
    # turned on in production, opening webmention and pingback sources to server-side request forgery.
    result = _check({**_prod_env(tmp_path), "SERVICEPULSE_FETCH_ALLOW_PRIVATE": "true"})
    assert result.returncode != 0
    assert "SERVICEPULSE_FETCH_ALLOW_PRIVATE is for tests and local demos only" in result.stderr
    narrow = {**_prod_env(tmp_path), "SERVICEPULSE_FETCH_ALLOW_NETWORKS": "10.20.0.0/16"}
    assert _check(narrow).returncode == 0


def test_production_refuses_an_encryption_key_that_is_not_a_fernet_key(tmp_path: Path) -> None:
    # QA: the environment file example's placeholder passed `check --deploy`, then adding a source with a token
    # crashed with a traceback (a 500 on the Sources page).
    example = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "servicepulse.env.example"
    placeholders = dict(
        line.split("=", 1) for line in example.read_text().splitlines() if line and not line.startswith("#")
    )
    for value in (placeholders["SERVICEPULSE_ENCRYPTION_KEY"], "not-a-key", "a" * 44):
        result = _check({**_prod_env(tmp_path), "SERVICEPULSE_ENCRYPTION_KEY": value})
        assert result.returncode == 1
        assert "SERVICEPULSE_ENCRYPTION_KEY must be a Fernet key" in result.stderr
    # The example's secret key placeholder is refused too.
    result = _check(
        {**_prod_env(tmp_path), "SERVICEPULSE_SECRET_KEY": placeholders["SERVICEPULSE_SECRET_KEY"]}
    )
    assert "SERVICEPULSE_SECRET_KEY must be a random string" in result.stderr
