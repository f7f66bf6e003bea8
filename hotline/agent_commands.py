"""`hotline agents`: who is logged in, paused or on a call, per queue, and how many callers
wait; `hotline sip`: the loopback SIP accounts for a local softphone and agents' phones."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import typer
from rich.console import Console
from rich.text import Text

from hotline.output import DataTable, plain
from ivr.agents import load_agents
from pbx.ami import Ami, AmiError, Event
from pbx.config import CALLER_ENDPOINT, SIP_REALM, sip_password
from pbx.process import AsteriskInstance
from pbx.provision import ProvisionError, find_or_provision
from runtime.settings import Settings

console = Console()

# Asterisk device states (QueueMember "Status").
_DEVICE_STATES = {"0": "unknown", "1": "available", "2": "on a call", "3": "busy",
                  "4": "invalid", "5": "unavailable", "6": "ringing", "7": "on a call",
                  "8": "on hold"}


@dataclass(frozen=True)
class MemberState:
    agent: str
    penalty: int
    state: str
    paused: bool
    calls_taken: int


@dataclass
class QueueState:
    queue: str
    waiting: int
    members: list[MemberState] = field(default_factory=list)


def queue_states(ami: Ami, timeout_s: float = 10.0) -> list[QueueState]:
    """Every queue's waiting callers and members (AMI QueueStatus)."""
    queues: dict[str, QueueState] = {}
    for event in ami.action_list("QueueStatus", "QueueStatusComplete", timeout_s):
        name = event.get("Queue", "")
        if event.get("Event") == "QueueParams":
            queues.setdefault(name, QueueState(name, 0)).waiting = int(event.get("Calls", "0"))
        elif event.get("Event") == "QueueMember":
            queues.setdefault(name, QueueState(name, 0)).members.append(_member(event))
    return sorted(queues.values(), key=lambda q: q.queue)


def _member(event: Event) -> MemberState:
    in_call = event.get("InCall") == "1"
    state = "on a call" if in_call else _DEVICE_STATES.get(event.get("Status", "0"), "unknown")
    return MemberState(event.get("Name") or event.get("MemberName") or event.get("Location", ""),
                       int(event.get("Penalty", "0")), state, event.get("Paused") == "1",
                       int(event.get("CallsTaken", "0")))


def _instance() -> AsteriskInstance:
    settings = Settings.from_env()
    return AsteriskInstance(settings, find_or_provision(settings.asterisk_root,
                                                        allow_provision=False))


def agents_command(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable (for consoles)."),
        busy_only: bool = typer.Option(False, "--waiting", help="Only queues with callers "
                                                                "waiting.")) -> None:
    """Queues with their agents (available, paused, on a call) and waiting callers."""
    try:
        with _instance().ami() as ami:
            states = queue_states(ami)
    except (AmiError, ProvisionError, OSError, TimeoutError) as exc:
        console.print(f"[red]error:[/red] cannot read the queues: {exc} (is `hotline up` "
                      "running?)")
        raise typer.Exit(1) from exc
    if busy_only:
        states = [s for s in states if s.waiting]
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in states], ensure_ascii=False, indent=2))
        return
    table = DataTable(title="queues and agents")
    for column in ("queue", "waiting", "agent", "penalty", "state", "calls taken"):
        table.add_column(column)
    for queue in states:
        if not queue.members:
            table.add_row(queue.queue, str(queue.waiting), Text("nobody", style="red"), "", "", "")
        for index, member in enumerate(sorted(queue.members, key=lambda m: m.penalty)):
            state = f"paused, {member.state}" if member.paused else member.state
            table.add_row(queue.queue if index == 0 else "",
                          str(queue.waiting) if index == 0 else "", member.agent,
                          str(member.penalty), state, str(member.calls_taken))
    console.print(table)


def sip_command() -> None:
    """SIP accounts on 127.0.0.1 for local testing: a softphone that calls the hotline and
    the agents' phones. Passwords are generated per runtime folder."""
    settings = Settings.from_env()
    agents, problems = load_agents(settings.agents_file)
    table = DataTable(title=f"SIP on 127.0.0.1:{settings.sip_port} (UDP), realm {SIP_REALM}")
    for column in ("account", "password", "use"):
        table.add_column(column)
    table.add_row(CALLER_ENDPOINT, sip_password(settings, CALLER_ENDPOINT),
                  "softphone: register, then dial any number (e.g. 95588) to reach the IVR")
    for agent in agents.agents if agents else []:
        table.add_row(agent.extension, sip_password(settings, agent.extension),
                      f"agent {agent.id}: receives queue calls")
    console.print(table)
    for problem in problems:
        console.print(f"[red]{plain(problem.render())}[/red]")


def register(app: typer.Typer) -> None:
    app.command("agents")(agents_command)
    app.command("sip")(sip_command)
