"""The container recipe: Dockerfile, compose.yaml, .env.example and the deployment guide."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.config import Config

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_netzbot_signal_and_postgres_wired_by_environment() -> None:
    services = compose()["services"]
    assert set(services) == {"netzbot", "signal", "postgres"}

    signal = services["signal"]
    assert signal["image"].startswith("bbernhard/signal-cli-rest-api")
    assert signal["environment"]["MODE"] == "json-rpc"
    assert any(v.endswith(":/home/.local/share/signal-cli") for v in signal["volumes"])

    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])

    bot = services["netzbot"]
    env = bot["environment"]
    assert env["NETZBOT_STORAGE__URL"].startswith("postgresql://netzbot:${POSTGRES_PASSWORD")
    assert env["NETZBOT_STORAGE__URL"].endswith("@postgres:5432/netzbot")
    assert env["NETZBOT_SIGNAL__SERVICE"] == "signal:8080"  # service name, container port
    assert env["NETZBOT_TELEGRAM__TOKEN"] == "${NETZBOT_TELEGRAM__TOKEN:-}"
    assert env["NETZBOT_SIGNAL__PHONE_NUMBER"] == "${NETZBOT_SIGNAL__PHONE_NUMBER:-}"
    assert env["NETZBOT_HTTP__LISTEN"] == "0.0.0.0:8080"
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "signal" in bot["depends_on"]
    # published on the host's loopback only
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
    named = set(compose()["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith("./") or source in named, volume


def test_every_netzbot_variable_in_compose_is_a_config_key() -> None:
    env = compose()["services"]["netzbot"]["environment"]
    for name in env:
        if name == "NETZBOT_CONFIG":
            continue
        section, key = name.removeprefix("NETZBOT_").lower().split("__")
        assert key in Config.model_fields[section].annotation.model_fields, name


def test_empty_secrets_from_compose_mean_not_set(monkeypatch) -> None:
    monkeypatch.setenv("NETZBOT_TELEGRAM__TOKEN", "")
    monkeypatch.setenv("NETZBOT_SIGNAL__SERVICE", "signal:8080")
    monkeypatch.setenv("NETZBOT_SIGNAL__PHONE_NUMBER", "+4915123456789")
    config = Config()
    assert config.telegram.token is None and not config.telegram.active
    assert config.signal.active


def test_env_example_names_the_secrets_compose_needs() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert used <= names
    assert not re.search(r"^(POSTGRES_PASSWORD|NETZBOT_TELEGRAM__TOKEN)=\S", text, re.M)


def test_dockerfile_slim_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim AS build$", text, re.M)
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^RUN pip install --prefix=/install \. tzdata$", text, re.M)
    assert re.search(r"^USER netzbot$", text, re.M)
    assert "useradd --system --uid 10001" in text
    health = re.search(r"^HEALTHCHECK .*\n\s+CMD (.*)$", text, re.M)
    assert health and "http://127.0.0.1:8080/healthz" in health.group(1)
    assert 'ENTRYPOINT ["netzbot"]' in text and 'CMD ["run"]' in text
    for copied in ("pyproject.toml", "README.md"):
        assert copied in text and (ROOT / copied).exists()
    for package in ("bot", "handlers", "jobs", "storage"):
        assert f"COPY {package} ./{package}" in text
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".env" in ignored and "README.md" not in ignored and "bot" not in ignored


def test_deployment_guide_covers_the_recipe() -> None:
    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for needle in (
        "docker compose up -d --build",
        "netzbot doctor",
        "/v1/qrcodelink?device_name=netzbot",
        "MODE=json-rpc",
        "ExecStart=/opt/netzbot/bin/netzbot run",
        "[Install]",
        "netzbot backup",
        "netzbot restore",
        "/kalender.ics",
        "import-opml",
    ):
        assert needle in text, needle
