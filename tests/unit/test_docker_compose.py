"""docker-compose.yml agrees with the settings, the CLI and itself; parsed as YAML, no Docker needed."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dispatcher.settings import Settings
from jiesu.cli.main import app

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = ("kafka", "postgres", "migrate", "topics", "worker", "web")
JIESU_SERVICES = ("migrate", "topics", "worker", "web")
PREFIX = "JIESU_"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    with COMPOSE_FILE.open(encoding="utf-8") as file:
        data = yaml.safe_load(file)
    assert isinstance(data, dict), (
        f"{COMPOSE_FILE.name}: expected a mapping at the top, got {type(data).__name__}"
    )
    assert isinstance(data.get("services"), dict), f"{COMPOSE_FILE.name}: no `services` mapping"
    return data


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JIESU_* variable and no jiesu.toml: Settings sees only what a test passes in."""
    for name in [name for name in os.environ if name.startswith(PREFIX)]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    assert name in compose["services"], f"{COMPOSE_FILE.name}: no service `{name}`"
    return compose["services"][name] or {}


def environment(compose: dict[str, Any], name: str) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or as a list of NAME=value."""
    env = service(compose, name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def jiesu_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    return {key: value for key, value in environment(compose, name).items() if key.startswith(PREFIX)}


def published_ports(compose: dict[str, Any], name: str) -> list[tuple[str | None, str, str]]:
    """(host ip or None, host port, container port) for each entry of a service's `ports`."""
    result: list[tuple[str | None, str, str]] = []
    for entry in service(compose, name).get("ports") or []:
        if isinstance(entry, dict):
            result.append(
                (entry.get("host_ip"), str(entry.get("published", "")), str(entry["target"]).split("/")[0])
            )
            continue
        parts = str(entry).split("/")[0].rsplit(":", 2)
        if len(parts) == 3:
            result.append((parts[0].strip("[]"), parts[1], parts[2]))
        elif len(parts) == 2:
            result.append((None, parts[0], parts[1]))
        else:
            result.append((None, "", parts[0]))
    return result


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """`NAME://host:port,...` -> {NAME: (host, port)}."""
    result = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        result[name] = (host.strip("[]"), int(port))
    return result


def command_args(compose: dict[str, Any], name: str) -> list[str]:
    command = service(compose, name).get("command")
    assert command, f"service `{name}`: no `command`"
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def test_the_file_has_every_service(compose: dict[str, Any]) -> None:
    missing = [name for name in SERVICES if name not in compose["services"]]
    assert not missing, f"{COMPOSE_FILE.name}: missing services {missing}"


def test_the_kafka_image_is_the_version_the_local_broker_uses(
    compose: dict[str, Any], clean_env: None
) -> None:
    image = str(service(compose, "kafka").get("image", ""))
    repository, _, tag = image.rpartition(":")
    expected = Settings().kafka_version
    assert repository == "apache/kafka", f"service kafka: image {image!r} is not apache/kafka"
    assert tag == expected, (
        f"service kafka: image tag {tag!r} differs from Settings().kafka_version {expected!r}"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_every_jiesu_variable_is_a_settings_field(compose: dict[str, Any], name: str) -> None:
    for variable in jiesu_env(compose, name):
        field = variable.removeprefix(PREFIX).lower()
        assert field in Settings.model_fields, (
            f"service {name}: {variable} is not a Settings field (no field {field!r}); Settings forbids it"
        )


@pytest.mark.parametrize("name", SERVICES)
def test_every_jiesu_value_passes_settings_validation(
    compose: dict[str, Any], name: str, clean_env: None
) -> None:
    """A service's variables together, as its container gets them (JIESU_ENV=production needs the URL)."""
    fields = {
        variable.removeprefix(PREFIX).lower(): value for variable, value in jiesu_env(compose, name).items()
    }
    unknown = [field for field in fields if field not in Settings.model_fields]
    assert not unknown, (
        f"service {name}: not Settings fields: {[PREFIX + field.upper() for field in unknown]}"
    )
    try:
        Settings(**fields)
        problems = ""
    except ValidationError as error:
        problems = "; ".join(map(describe, error.errors()))
    assert not problems, f"service {name}: Settings rejects its JIESU_* values: {problems}"


def describe(problem: Any) -> str:
    """One pydantic error as `JIESU_FIELD=value: message` (or just the message for whole-settings checks)."""
    if not problem["loc"]:
        return str(problem["msg"])
    return f"{PREFIX}{str(problem['loc'][0]).upper()}={problem['input']!r}: {problem['msg']}"


@pytest.mark.parametrize("name", JIESU_SERVICES)
def test_jiesu_services_share_the_same_settings(compose: dict[str, Any], name: str) -> None:
    reference = jiesu_env(compose, "worker")
    assert jiesu_env(compose, name) == reference, (
        f"service {name}: JIESU_* variables {jiesu_env(compose, name)} differ from the worker's {reference}"
    )


@pytest.mark.parametrize("name", ["worker", "web", "topics"])
def test_kafka_bootstrap_names_an_advertised_listener_of_the_kafka_service(
    compose: dict[str, Any], name: str
) -> None:
    bootstrap = jiesu_env(compose, name).get("JIESU_KAFKA_BOOTSTRAP")
    assert bootstrap, (
        f"service {name}: no JIESU_KAFKA_BOOTSTRAP (the default 127.0.0.1:9092 is the container itself)"
    )
    kafka_env = environment(compose, "kafka")
    advertised = listeners(kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""))
    bound = listeners(kafka_env.get("KAFKA_LISTENERS", ""))
    for entry in bootstrap.split(","):
        host, _, port = entry.strip().rpartition(":")
        assert host == "kafka", (
            f"service {name}: JIESU_KAFKA_BOOTSTRAP host {host!r} is not the kafka service"
        )
        assert port.isdigit(), f"service {name}: JIESU_KAFKA_BOOTSTRAP {entry!r} has no numeric port"
        matching = [listener for listener, address in advertised.items() if address == ("kafka", int(port))]
        assert matching, (
            f"service {name}: JIESU_KAFKA_BOOTSTRAP {entry!r} is not in the kafka service's "
            f"KAFKA_ADVERTISED_LISTENERS {advertised}"
        )
        assert bound.get(matching[0], ("", -1))[1] == int(port), (
            f"service {name}: listener {matching[0]} is advertised as kafka:{port} but KAFKA_LISTENERS "
            f"binds it to {bound.get(matching[0])} (no port mapping inside the compose network)"
        )


def test_kafka_advertises_to_the_host_what_it_publishes(compose: dict[str, Any]) -> None:
    kafka_env = environment(compose, "kafka")
    advertised = listeners(kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""))
    bound = listeners(kafka_env.get("KAFKA_LISTENERS", ""))
    published = {
        (host_port, container_port) for _, host_port, container_port in published_ports(compose, "kafka")
    }
    external = {name: address for name, address in advertised.items() if address[0] != "kafka"}
    assert external, f"service kafka: no advertised listener for the host in {advertised}"
    for listener, (host, port) in external.items():
        assert host in ("127.0.0.1", "localhost"), (
            f"service kafka: {listener} advertises {host}, not the host loopback"
        )
        assert listener in bound, (
            f"service kafka: advertised listener {listener} is not in KAFKA_LISTENERS {bound}"
        )
        assert (str(port), str(bound[listener][1])) in published, (
            f"service kafka: {listener} advertises port {port} but ports {sorted(published)} do not publish "
            f"{port} to its container port {bound[listener][1]}"
        )


def test_kafka_matches_the_topic_settings(compose: dict[str, Any]) -> None:
    kafka_env = environment(compose, "kafka")
    partitions = jiesu_env(compose, "topics").get("JIESU_TOPIC_PARTITIONS")
    assert kafka_env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", (
        "service kafka: topics must not auto-create"
    )
    assert kafka_env.get("KAFKA_NUM_PARTITIONS") == partitions, (
        f"service kafka: KAFKA_NUM_PARTITIONS {kafka_env.get('KAFKA_NUM_PARTITIONS')} differs from "
        f"JIESU_TOPIC_PARTITIONS {partitions}"
    )
    for variable in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert kafka_env.get(variable) == "1", f"service kafka: {variable} must be 1 on a single node"
    test = " ".join(map(str, (service(compose, "kafka").get("healthcheck") or {}).get("test", [])))
    assert "kafka-broker-api-versions.sh" in test, (
        f"service kafka: healthcheck {test!r} does not ask the broker"
    )


@pytest.mark.parametrize("name", JIESU_SERVICES)
def test_database_url_points_at_the_postgres_service(compose: dict[str, Any], name: str) -> None:
    url_text = jiesu_env(compose, name).get("JIESU_DATABASE_URL")
    assert url_text, (
        f"service {name}: no JIESU_DATABASE_URL (the default is a SQLite file inside the container)"
    )
    url = make_url(url_text)
    postgres = environment(compose, "postgres")
    assert url.get_backend_name() == "postgresql", (
        f"service {name}: JIESU_DATABASE_URL {url_text!r} is not PostgreSQL"
    )
    assert url.host == "postgres", (
        f"service {name}: JIESU_DATABASE_URL host {url.host!r} is not the postgres service"
    )
    assert (url.port or 5432) == 5432, (
        f"service {name}: JIESU_DATABASE_URL port {url.port} is not the container's 5432"
    )
    for part, variable in (
        ("username", "POSTGRES_USER"),
        ("password", "POSTGRES_PASSWORD"),
        ("database", "POSTGRES_DB"),
    ):
        assert getattr(url, part) == postgres.get(variable), (
            f"service {name}: JIESU_DATABASE_URL {part} {getattr(url, part)!r} differs from postgres "
            f"{variable}={postgres.get(variable)!r}"
        )


def test_web_publishes_the_web_port(compose: dict[str, Any]) -> None:
    port = jiesu_env(compose, "web").get("JIESU_WEB_PORT", str(Settings.model_fields["web_port"].default))
    container_ports = [container for _, _, container in published_ports(compose, "web")]
    assert port in container_ports, (
        f"service web: JIESU_WEB_PORT {port} is not published (ports: {container_ports})"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_published_ports_bind_loopback_only(compose: dict[str, Any], name: str) -> None:
    for host_ip, host_port, container_port in published_ports(compose, name):
        assert host_ip == "127.0.0.1", (
            f"service {name}: port {host_port or '(random)'}->{container_port} binds "
            f"{host_ip or 'every interface'}, not 127.0.0.1"
        )


@pytest.mark.parametrize("name", JIESU_SERVICES)
def test_setup_runs_before_the_services(compose: dict[str, Any], name: str) -> None:
    needs = {"migrate": {"postgres": "service_healthy"}, "topics": {"kafka": "service_healthy"}}.get(
        name, {"migrate": "service_completed_successfully", "topics": "service_completed_successfully"}
    )
    depends_on = service(compose, name).get("depends_on") or {}
    for dependency, condition in needs.items():
        actual = depends_on.get(dependency, {}).get("condition") if isinstance(depends_on, dict) else None
        assert actual == condition, (
            f"service {name}: depends_on {dependency} is {actual!r}, expected {condition!r}"
        )


@pytest.mark.parametrize("name", JIESU_SERVICES)
def test_service_commands_are_jiesu_commands(compose: dict[str, Any], name: str) -> None:
    assert "entrypoint" not in service(compose, name), (
        f"service {name}: overrides the image's `jiesu` entrypoint"
    )
    args = command_args(compose, name)
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, (
        f"service {name}: `jiesu {shlex.join(args)} --help` exits {result.exit_code}: "
        f"{(result.output or str(result.exception)).strip()[-500:]}"
    )
