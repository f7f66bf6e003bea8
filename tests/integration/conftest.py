"""Real parts: one Asterisk 22 per test session (provisioned by the project), a real FastAGI
server per test, calls placed as Local/ channels through AMI.

These tests never skip: if Asterisk cannot be found or started, they fail and say why.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from agi.menu_store import MenuStore
from agi.routes import Route
from db.postgres import PostgresServer, postgres_bin_dir
from ivr.agents import Agent, load_agents
from ivr.menu_loader import MenuSet
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from pbx.provision import ProvisionError, find_or_provision
from runtime.settings import Settings
from tests import support
from tests.support import STARTER_ROUTES, RunningServer, free_port

ROUTING_AGENTS = Path(__file__).resolve().parents[1] / "routing" / "agents.yaml"
# The tests' own dialplan (simulated agents, a callee, a supervisor's phone), installed
# beside the hotline's: production instances have none of it.
TEST_DIALPLAN = Path(__file__).resolve().parents[1] / "dialplan"


def isolated_settings(runtime_dir: Path) -> Settings:
    """Free ports, its own runtime folder, and simulated agents that answer calls."""
    return Settings.from_env().with_changes(
        runtime_dir=runtime_dir, agi_port=free_port(), ami_port=free_port(),
        sip_port=free_port(), webrtc_port=free_port(),
        rtp_start=31000, rtp_end=31999, agents_path=ROUTING_AGENTS,
        dialplan_overlay=TEST_DIALPLAN)


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskInstance]:
    settings = isolated_settings(tmp_path_factory.mktemp("runtime"))
    try:
        installation = find_or_provision(settings.asterisk_root, allow_provision=False)
    except ProvisionError as exc:
        pytest.fail(f"{exc} (the README's test command provisions it)")
    instance = AsteriskInstance(settings, installation)
    instance.up()
    with instance.ami() as ami:  # the simulated agents are idle and ready
        for extension in ("2001", "2002", "2003", "2004"):
            ami.action("Setvar", Variable=f"DEVICE_STATE(Custom:agent-{extension})",
                       Value="NOT_INUSE")
    yield instance
    instance.down()


ServerFactory = Callable[..., RunningServer]


@pytest.fixture
def start_fastagi(asterisk: AsteriskInstance) -> Iterator[ServerFactory]:
    """Factory: start a FastAGI server (optionally with other routes) where Asterisk looks."""
    started: list[RunningServer] = []

    def start(routes: Mapping[str, Route] = STARTER_ROUTES) -> RunningServer:
        started.append(support.start_fastagi(asterisk.settings.agi_port, routes))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def fastagi(start_fastagi: ServerFactory) -> RunningServer:
    return start_fastagi()


@pytest.fixture
def ami(asterisk: AsteriskInstance) -> Iterator[Ami]:
    with asterisk.ami() as connected:
        yield connected



@pytest.fixture(scope="module")
def agents() -> list[Agent]:
    """The simulated agents the test Asterisk's queues are generated from."""
    loaded, problems = load_agents(ROUTING_AGENTS)
    assert loaded is not None, problems
    return list(loaded.agents)


@pytest.fixture
def talk_s(ami: Ami) -> Iterator[None]:
    """Simulated agents talk for 2 s, then hang up (the caller goes on to the survey)."""
    ami.action("Setvar", Variable="AGENT_TALK_S", Value="2")
    yield
    ami.action("Setvar", Variable="AGENT_TALK_S", Value="")


@pytest.fixture(scope="module")
def menus(asterisk: AsteriskInstance) -> MenuSet:
    """The shipped menus, as the test Asterisk's FastAGI routes serve them."""
    store = MenuStore(asterisk.settings.menus, asterisk.settings.catalog_file)
    assert store.reload().applied
    current = store.current()
    assert current is not None
    return current

@pytest.fixture(scope="module")
def durations(asterisk: AsteriskInstance) -> dict[str, int]:
    """The rendered prompts' lengths, for timing scripted callers."""
    from tests.integration.dialling import rendered_durations
    return rendered_durations(asterisk.settings)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL server from the distribution's packages (`make postgres`), on a
    free loopback port; its folder sits directly in /tmp so the `postgres` user (the server
    refuses root) can reach it."""
    base = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed (the README's test command installs it)")
    server = PostgresServer(base, free_port(), bin_dir)
    server.init()
    yield server
    if server.running():
        server.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)
