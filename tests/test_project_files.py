"""The project's tooling files agree with each other and with README.md.

Docker cannot run here, so these tests read the files: the compose services, and the commands
they run, must be the ones README.md describes; the Makefile targets must be the commands the
README opens with; CI must run the README's test command; every setting must be documented.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text()
COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (REPO_ROOT / "portal" / "settings.py").read_text()

# Every variable portal/settings.py reads: env("X"), env.str("X", ...), env.db(\n "X") ...
SETTINGS_VARIABLES = sorted(
    set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", SETTINGS_SOURCE))
)
REQUIRED_MARKER = re.compile(r"^\$\{(\w+):\?[^}]*\}$")


def readme_section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def command_text(command: str | list[str]) -> str:
    return command if isinstance(command, str) else " ".join(command)


def clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without anything the settings read (the test settings put
    their values there), plus the overrides."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES and name != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(overrides)
    return environment


# docker-compose.yml and README.md --------------------------------------------------------------


def test_the_settings_are_found_in_settings_py():
    assert {"SECRET_KEY", "DATABASE_URL", "CACHE_URL", "EMAIL_URL"} <= set(SETTINGS_VARIABLES)


def test_compose_has_the_services_of_the_stack():
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(COMPOSE["services"])


def test_worker_and_beat_run_the_web_image_with_the_web_configuration():
    services = COMPOSE["services"]

    for name in ("worker", "beat"):
        assert services[name]["build"] == services["web"]["build"]
        assert services[name]["environment"] == services["web"]["environment"]


@pytest.mark.parametrize("service", sorted(COMPOSE["services"]))
def test_readme_docker_section_names_each_service_and_its_image(service):
    section = readme_section("Docker compose")
    definition = COMPOSE["services"][service]

    assert f"`{service}`" in section
    if "image" in definition:
        assert definition["image"] in section


@pytest.mark.parametrize(
    "service", sorted(name for name, s in COMPOSE["services"].items() if "command" in s)
)
def test_readme_docker_section_shows_each_command_verbatim(service):
    command = command_text(COMPOSE["services"][service]["command"])

    assert command in readme_section("Docker compose")


def test_the_web_image_runs_what_compose_runs():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    web = COMPOSE["services"]["web"]

    assert web["build"] in (".", {"context": "."})
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^RUN pip install .*\.\s", dockerfile, re.M)
    image_command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert image_command == shlex.split(command_text(web["command"]))


def test_web_is_wired_to_postgres_redis_and_mailpit():
    environment = COMPOSE["services"]["web"]["environment"]

    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["CACHE_URL"].startswith("redis://redis:6379/")
    assert environment["EMAIL_URL"] == "smtp://mailpit:1025"
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"


def test_the_settings_accept_the_web_service_environment(tmp_path):
    """Compose gives web every variable the settings require outside DEBUG."""
    environment = {}
    for name, value in COMPOSE["services"]["web"]["environment"].items():
        required = REQUIRED_MARKER.match(str(value))
        environment[name] = f"{required.group(1)}-set-by-the-operator" if required else str(value)
    if "TOKEN_ENCRYPTION_KEYS" in environment:
        environment["TOKEN_ENCRYPTION_KEYS"] = "Y2hhbmdlLW1lLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM="
    environment.update(PORTAL_ENV_FILE="", DJANGO_SETTINGS_MODULE="portal.settings")

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('settings ok')"],
        cwd=REPO_ROOT,
        env=clean_environment(**environment),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "settings ok" in result.stdout


def test_readme_documents_every_setting():
    section = readme_section("Configuration")

    undocumented = [name for name in SETTINGS_VARIABLES if f"`{name}`" not in section]
    assert undocumented == []


# Makefile, README's opening and CI ----------------------------------------------------------


def test_readme_opens_with_make_run_and_make_test():
    opening = README.split("\n## ", 1)[0]
    first_block = re.search(r"```\w*\n(.*?)```", opening, re.S).group(1)

    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize(
    ("target", "script"), [("run", "scripts/run.sh"), ("test", "scripts/test.sh")]
)
def test_the_makefile_targets_the_readme_opens_with_run_their_scripts(target, script):
    result = subprocess.run(
        ["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert script in result.stdout


def test_ci_runs_lint_and_the_readme_test_command():
    ci = REPO_ROOT / ".ci" / "run"
    lines = [line.split("#")[0] for line in ci.read_text().splitlines()]

    assert os.access(ci, os.X_OK)
    assert "set -euo pipefail" in lines
    assert any(re.search(r"(^|\s)make test\s*$", line) for line in lines)
    assert any(re.search(r"(^|\s)make lint\s*$", line) for line in lines)


# The .env that `make run` writes ----------------------------------------------------------------


def write_env(path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "write_env.py"), str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def manage(tmp_path: Path, env_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=clean_environment(
            PORTAL_ENV_FILE=str(env_file),
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            BROKER_DATA_DIR=str(tmp_path / "broker"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_written_env_file_is_accepted_by_the_settings(tmp_path):
    env_file = tmp_path / ".env"
    write_env(env_file)

    check = manage(tmp_path, env_file, "check")
    shown = manage(
        tmp_path,
        env_file,
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
    )

    assert check.returncode == 0, check.stderr
    secret_key = re.search(r"^SECRET_KEY=(.+)$", env_file.read_text(), re.M).group(1)
    assert shown.stdout.split() == ["True", secret_key]


def test_the_env_writer_keeps_what_the_file_has(tmp_path):
    env_file = tmp_path / ".env"
    write_env(env_file)
    first = env_file.read_text()
    env_file.write_text(first.replace("DEBUG=true", "DEBUG=false"))

    write_env(env_file)

    assert env_file.read_text() == first.replace("DEBUG=true", "DEBUG=false")
    assert len(re.findall(r"^SECRET_KEY=\S{40,}$", first, re.M)) == 1
    assert not re.search(r"^DATABASE_URL=", first, re.M)


def test_the_env_writer_adds_a_variable_an_older_file_lacks(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nSECRET_KEY=kept\n")

    write_env(env_file)

    text = env_file.read_text()
    assert text.startswith("DEBUG=true\nSECRET_KEY=kept\n")
    assert text.count("SECRET_KEY=") == 1


# The production environment README.md gives -----------------------------------------------------


def deploy_check(*overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/deploy_check.py", *overrides],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_runs_the_deploy_check():
    lint = (REPO_ROOT / "scripts" / "lint.sh").read_text()

    assert '"$PY" scripts/deploy_check.py' in lint


def test_ci_runs_mypy_on_the_portal():
    lint = (REPO_ROOT / "scripts" / "lint.sh").read_text()

    assert '"$PY" scripts/typecheck.py onboarding portal' in lint


def test_the_readme_production_environment_passes_check_deploy_at_warning_level():
    result = deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ("DEFAULT_GATEWAY_IP=192.0.2.10", "onboarding.W001"),
        ("HTTPS_ONLY=false", "security.W008"),
        ("SECURE_HSTS_SECONDS=0", "security.W004"),
    ],
)
def test_the_deploy_check_fails_on_what_production_must_not_keep(override, complaint):
    result = deploy_check(override)

    assert result.returncode != 0
    assert complaint in result.stderr


def test_the_production_section_shows_gunicorn_and_the_image_runs_it():
    section = readme_section("Production")
    web = command_text(COMPOSE["services"]["web"]["command"])

    assert "gunicorn -c portal/gunicorn.conf.py portal.wsgi" in section
    assert "gunicorn -c portal/gunicorn.conf.py portal.wsgi" in web
    assert "runserver" not in web
