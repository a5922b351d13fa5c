"""`bounty demo`: refused in production; migrates, seeds and serves the demo sign-in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bounty import create_app
from bounty.cli.demo import command, prepare
from bounty.models.engine import make_engine
from bounty.models.migrate import current_revision


def test_refused_when_the_environment_is_production(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, env={"BOUNTY_ENV": "production",
                                              "BOUNTY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: bounty demo is refused when BOUNTY_ENV=production")
    assert not (tmp_path / "x.db").exists()


def test_prepare_seeds_and_lists_the_personas(db_url: str) -> None:
    app = create_app({"ENV": "demo", "DEMO_LOGIN": True, "DATABASE_URL": db_url,
                      "SECRET_KEY": "x" * 40})

    personas = prepare(app)
    again = prepare(app)  # a second start on the same database changes nothing

    engine = make_engine(db_url)
    assert current_revision(engine) is not None
    engine.dispose()
    assert personas == again
    assert len(personas) >= 3
    assert all(p.name and p.roles for p in personas)
    assert any("program-admin" in p.roles for p in personas)
    html = app.test_client().get("/dev/login").get_data(as_text=True)
    for persona in personas:
        assert persona.name in html
    app.extensions["bounty.db"].engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNTY_")}
    env["BOUNTY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.db'}"
    bounty = Path(sys.executable).parent / "bounty"
    process = subprocess.Popen([str(bounty), "demo", "--port", str(port)], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_command_serves_the_seeded_site(running_demo: tuple[str, subprocess.Popen[str]]) -> None:
    base, process = running_demo

    with urllib.request.urlopen(f"{base}/dev/login", timeout=10) as response:
        login_page = response.read().decode()
    with urllib.request.urlopen(f"{base}/", timeout=10) as response:
        landing = response.read().decode()
    process.terminate()
    banner = process.communicate(timeout=30)[0]

    assert f"Demo ready at {base}/" in banner
    persona_lines = [line.strip() for line in banner.splitlines() if line.startswith("  ")]
    assert persona_lines
    first_name = persona_lines[0].split(" (")[0]
    assert first_name in login_page
    assert "Bounty Pool" in landing
    assert "bounty seed" not in landing  # the fresh database file was migrated, then seeded
