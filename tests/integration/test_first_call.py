"""Calls through the real Asterisk 22 and the real FastAGI server."""

from __future__ import annotations

import subprocess

from agi.dispatch import SessionEnd
from ivr.outcomes import CallSummary, HangUp, Outcome
from ivr.ports import Channel
from pbx.ami import Ami
from pbx.calls import CallerScript, place_call
from pbx.process import AsteriskInstance
from tests.integration.conftest import ServerFactory
from tests.support import RunningServer


def test_caller_presses_a_key_and_the_route_sets_the_variable(
        ami: Ami, fastagi: RunningServer) -> None:
    trace = place_call(ami, CallerScript(keys="1", wait_s=0.5, stay_s=15))
    session = fastagi.sessions.for_call(trace.hotline_id)
    assert session.end is SessionEnd.COMPLETED
    assert trace.keys_received == "1"
    assert trace.ivr_variables["IVR_CHOICE"] == "1"
    assert trace.ended["Choice"] == "1" and trace.outcome == "hangup"
    assert trace.contexts == ["hotline-inbound", "hotline-outcome", "hotline-call-ended"]
    commands = [command for command, _result in trace.agi_commands]
    assert commands[0] == 'STREAM FILE "hello-world" "0123456789*#"'
    assert commands[-1] == 'SET VARIABLE "IVR_OUTCOME" "hangup"'


def test_key_zero_reaches_the_agents_queue(ami: Ami, fastagi: RunningServer) -> None:
    trace = place_call(ami, CallerScript(keys="0", wait_s=0.5, stay_s=4))
    assert trace.ivr_variables["IVR_QUEUE"] == "fallback"
    queued = [data for context, app, data in trace.steps
              if (context, app) == ("hotline-outcome", "Queue")]
    # c: the caller stays for the survey when the agent hangs up first. The starter route
    # sets no time limit (IVR_QUEUE_TIMEOUT unset): the caller waits for a person.
    assert queued and queued[0].split(",")[:5] == ["fallback", "c", "", "", ""], trace.steps


def test_caller_hanging_up_mid_command_ends_the_session_cleanly(
        ami: Ami, fastagi: RunningServer) -> None:
    # Answer takes ~1 s, the greeting ~1.5 s, then the IVR waits 5 s for a key: at 2.5 s the
    # caller leaves while a command (WAIT FOR DIGIT) is in progress.
    trace = place_call(ami, CallerScript(keys="", wait_s=2.5, stay_s=0))
    session = fastagi.sessions.for_call(trace.hotline_id)
    assert session.end is SessionEnd.HUNG_UP
    assert trace.outcome == "" and trace.failure == ""
    assert trace.ended["AgiStatus"] == "HANGUP"


def test_fastagi_server_down_sends_the_caller_to_a_human(ami: Ami,
                                                         asterisk: AsteriskInstance) -> None:
    # No FastAGI server on the port Asterisk uses. The caller stays through the disclosure
    # the failure path plays before the human (whose call is recorded).
    trace = place_call(ami, CallerScript(keys="", wait_s=1, stay_s=25), timeout_s=60)
    assert trace.failure == "agi-FAILURE"
    assert "hotline-failure" in trace.contexts and "hotline-human" in trace.contexts
    assert any(context == "hotline-recording" and app == "MixMonitor"
               for context, app, _data in trace.steps)
    # The last stop has no time limit: a person, never a hang-up.
    assert ("hotline-human", "Queue", "fallback") in trace.steps


def test_route_bug_sends_the_caller_to_a_human(ami: Ami, start_fastagi: ServerFactory) -> None:
    def broken(channel: Channel) -> Outcome:
        raise RuntimeError("bug")

    server = start_fastagi({"hotline": broken})
    trace = place_call(ami, CallerScript(keys="", wait_s=1, stay_s=5))
    assert server.sessions.for_call(trace.hotline_id).end is SessionEnd.FAILED
    assert trace.outcome == "failed" and trace.failure == "route-failed"
    assert "hotline-human" in trace.contexts


def test_arguments_survive_asterisks_parser(ami: Ami, start_fastagi: ServerFactory) -> None:
    tricky = 'say "hi" \\ 我 要 转 人工 (ok)'
    seen: list[str | None] = []

    def echo(channel: Channel) -> Outcome:
        channel.set_variable("IVR_REASON", tricky)
        seen.append(channel.get_variable("IVR_REASON"))
        return HangUp(summary=CallSummary(reason="echoed"))

    start_fastagi({"hotline": echo})
    place_call(ami, CallerScript(keys="", wait_s=1, stay_s=10))
    assert seen == [tricky]


def test_asterisk_listens_on_loopback_only(asterisk: AsteriskInstance) -> None:
    pid = asterisk.status().pid
    sockets = subprocess.run(["ss", "-Htlnup"], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    mine = [line for line in sockets if f"pid={pid}," in line]
    tcp_listeners = [line.split()[4] for line in mine if line.startswith("tcp")]
    assert f"127.0.0.1:{asterisk.settings.ami_port}" in tcp_listeners
    assert all(addr.startswith("127.0.0.1:") for addr in tcp_listeners), tcp_listeners
    udp = {line.split()[4] for line in mine if line.startswith("udp")}
    assert f"127.0.0.1:{asterisk.settings.sip_port}" in udp
    # pjproject's DNS client keeps unconnected sockets on ephemeral ports; every service
    # port (SIP, RTP range) must be loopback.
    services = [a for a in udp if int(a.rsplit(":", 1)[1]) in
                {asterisk.settings.sip_port, *range(asterisk.settings.rtp_start,
                                                    asterisk.settings.rtp_end + 1)}]
    assert all(a.startswith("127.0.0.1:") for a in services), services
