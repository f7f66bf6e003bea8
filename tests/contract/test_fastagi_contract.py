"""The FastAGI server against a strict fake Asterisk over a real socket."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from agi.dispatch import SessionEnd
from agi.routes import Route
from ivr.outcomes import CallSummary, HangUp, Outcome, QueueCall, QueueRoute
from ivr.ports import Channel, DigitEntry
from tests.fake_asterisk import Expect, FakeAsterisk
from tests.support import STARTER_ROUTES, RunningServer, start_fastagi

GREETING = Expect('STREAM FILE "hello-world" "0123456789*#"', ("200 result=0 endpos=8000",))
REPROMPT = Expect('STREAM FILE "please-try-again" "0123456789*#"', ("200 result=0 endpos=800",))
WAIT_SILENT = Expect('WAIT FOR DIGIT "5000"', ("200 result=0",))


def set_var(name: str, value: str) -> Expect:
    return Expect(f'SET VARIABLE "{name}" "{value}"')


ServerFactory = Callable[..., RunningServer]


@pytest.fixture
def serve() -> Iterator[ServerFactory]:
    """Start FastAGI servers with the given routes; all are stopped after the test."""
    started: list[RunningServer] = []

    def start(routes: Mapping[str, Route] = STARTER_ROUTES) -> RunningServer:
        started.append(start_fastagi(routes=routes, idle_timeout_s=5))
        return started[-1]

    yield start
    for running in started:
        running.stop(drain_timeout_s=5)


@pytest.fixture
def server(serve: ServerFactory) -> RunningServer:
    return serve()


@pytest.fixture
def peer(server: RunningServer) -> Iterator[FakeAsterisk]:
    fake = FakeAsterisk.connect(server.port)
    yield fake
    fake.close()


def test_key_pressed_during_greeting_sets_choice(server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([
        Expect('STREAM FILE "hello-world" "0123456789*#"', ("200 result=49 endpos=4000",)),
        set_var("IVR_REASON", "choice-made"),
        set_var("IVR_CHOICE", "1"),
        set_var("IVR_OUTCOME", "hangup"),
    ])
    peer.expect_closed()
    report = server.sessions.wait()[0]
    assert report.end is SessionEnd.COMPLETED
    assert report.call_id == "1700000000.1"
    assert report.outcome is not None and report.outcome.choice == "1"


def test_silence_reprompts_then_offers_an_agent(server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([
        GREETING, WAIT_SILENT, REPROMPT, WAIT_SILENT,
        set_var("IVR_REASON", "no-input"),
        set_var("IVR_QUEUE", "fallback"),
        set_var("IVR_PRIORITY", "0"),
        set_var("IVR_SERVICE", "fallback"),
        set_var("IVR_OUTCOME", "queue"),
    ])
    peer.expect_closed()
    assert server.sessions.wait()[0].outcome == QueueCall(
        summary=CallSummary(reason="no-input"), service="fallback", route=QueueRoute("fallback"))


def test_hangup_notice_mid_command_ends_the_session_quietly(
        server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([
        Expect('STREAM FILE "hello-world" "0123456789*#"', ("HANGUP", "200 result=-1 endpos=0")),
    ])
    peer.expect_closed()
    report = server.sessions.wait()[0]
    assert report.end is SessionEnd.HUNG_UP and report.outcome is None


def test_511_dead_channel_is_a_hangup(server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([GREETING, Expect('WAIT FOR DIGIT "5000"',
                                ("511 Command Not Permitted on a dead channel or intercept "
                                 "routine",))])
    peer.expect_closed()
    assert server.sessions.wait()[0].end is SessionEnd.HUNG_UP


def test_result_minus_one_on_gone_channel_is_a_hangup(
        server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([
        Expect('STREAM FILE "hello-world" "0123456789*#"', ("200 result=-1 endpos=0",)),
        Expect("CHANNEL STATUS", ("511 Command Not Permitted on a dead channel",)),
    ])
    peer.expect_closed()
    assert server.sessions.wait()[0].end is SessionEnd.HUNG_UP


def test_result_minus_one_on_live_channel_sends_caller_to_a_human(
        server: RunningServer, peer: FakeAsterisk) -> None:
    # e.g. a missing sound file: the caller is still there and must not hear dead air.
    peer.send_env()
    peer.play([
        Expect('STREAM FILE "hello-world" "0123456789*#"', ("200 result=-1 endpos=0",)),
        Expect("CHANNEL STATUS", ("200 result=6",)),
        set_var("IVR_REASON", "channel-error"),
        set_var("IVR_OUTCOME", "failed"),
    ])
    peer.expect_closed()
    assert server.sessions.wait()[0].end is SessionEnd.FAILED


def test_garbage_reply_fails_the_call_to_a_human(server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env()
    peer.play([
        Expect('STREAM FILE "hello-world" "0123456789*#"', ("\x00\xffnot agi at all",)),
        set_var("IVR_REASON", "channel-error"),
        set_var("IVR_OUTCOME", "failed"),
    ])
    peer.expect_closed()
    assert server.sessions.wait()[0].end is SessionEnd.FAILED


def test_unknown_route_fails_the_call_to_a_human(server: RunningServer, peer: FakeAsterisk) -> None:
    peer.send_env(agi_network_script="no-such-route")
    peer.play([set_var("IVR_REASON", "unknown-route"), set_var("IVR_OUTCOME", "failed")])
    peer.expect_closed()
    report = server.sessions.wait()[0]
    assert report.end is SessionEnd.FAILED and report.route == "no-such-route"


def test_connection_without_environment_is_not_a_call(server: RunningServer) -> None:
    fake = FakeAsterisk.connect(server.port)
    fake.close()
    report = server.sessions.wait()[0]
    assert report.end is SessionEnd.HUNG_UP and report.route == ""


def test_arguments_are_quoted_exactly(serve: ServerFactory) -> None:
    tricky = 'say "hi" \\ 我 要 转 人工'

    def route(channel: Channel) -> Outcome:
        channel.set_variable("IVR_TEST", tricky)
        value = channel.get_variable("IVR_TEST")
        return HangUp(summary=CallSummary(reason="ok" if value == tricky else "mismatch"))

    running = serve({"hotline": route})
    with FakeAsterisk.connect(running.port) as fake:
        fake.send_env()
        fake.play([
            Expect('SET VARIABLE "IVR_TEST" "say \\"hi\\" \\\\ 我 要 转 人工"'),
            # Data with spaces and parentheses: pyst2's own parser would cut it at the space.
            Expect('GET VARIABLE "IVR_TEST"', (f"200 result=1 ({tricky})",)),
            set_var("IVR_REASON", "ok"),
            set_var("IVR_OUTCOME", "hangup"),
        ])
        fake.expect_closed()
    assert running.sessions.wait()[0].end is SessionEnd.COMPLETED


def test_one_calls_crash_does_not_touch_another(serve: ServerFactory) -> None:
    release = threading.Event()

    def crashing(channel: Channel) -> Outcome:
        release.wait(5)
        raise RuntimeError("bug in a route")

    running = serve({**STARTER_ROUTES, "crash": crashing})

    def crash_call() -> None:
        with FakeAsterisk.connect(running.port) as fake:
            fake.send_env(agi_network_script="crash", agi_uniqueid="2.2")
            fake.play([set_var("IVR_REASON", "route-error"), set_var("IVR_OUTCOME", "failed")])
            fake.expect_closed()

    def good_call() -> None:
        with FakeAsterisk.connect(running.port) as fake:
            fake.send_env(agi_uniqueid="3.3")
            fake.play([Expect('STREAM FILE "hello-world" "0123456789*#"',
                              ("200 result=50 endpos=10",)),
                       set_var("IVR_REASON", "choice-made"), set_var("IVR_CHOICE", "2"),
                       set_var("IVR_OUTCOME", "hangup")])
            release.set()  # the crash happens while this call is still connected
            fake.expect_closed()

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(crash_call), pool.submit(good_call)]:
            future.result(timeout=10)
    ends = {r.call_id: r.end for r in running.sessions.wait(2)}
    assert ends == {"2.2": SessionEnd.FAILED, "3.3": SessionEnd.COMPLETED}


def test_record_file_reports_a_key_only_with_dtmf(serve: ServerFactory) -> None:
    """After a pause RECORD FILE's result is not 0 but what Asterisk's wait loop had left
    (milliseconds); reading it as a key routed spoken answers wrongly."""
    keys: list[str | None] = []

    def route(channel: Channel) -> Outcome:
        for _ in range(2):
            keys.append(channel.record("/tmp/u", 16000, 2, "0123456789*#", beep=False))
        return HangUp(summary=CallSummary(reason="ok"))

    running = serve({"hotline": route})
    record = 'RECORD FILE "/tmp/u" "wav" "0123456789*#" "16000" "0" "s=2"'
    with FakeAsterisk.connect(running.port) as fake:
        fake.send_env()
        fake.play([
            Expect(record, ("200 result=12543 (timeout) endpos=28000",)),
            Expect(record, ("200 result=52 (dtmf) endpos=3000",)),
            set_var("IVR_REASON", "ok"),
            set_var("IVR_OUTCOME", "hangup"),
        ])
        fake.expect_closed()
    assert running.sessions.wait()[0].end is SessionEnd.COMPLETED
    assert keys == [None, "4"]


def read_command(arguments: str) -> Expect:
    return Expect(f'EXEC "Read" "{arguments}"', ("200 result=0",))


def read_result(status_and_digits: str) -> Expect:
    """What the Read left: "<READSTATUS>|<digits>"."""
    return Expect('GET FULL VARIABLE "${READSTATUS}|${HOTLINE_DIGITS}"',
                  (f"200 result=1 ({status_and_digits})",))


def reading_a_pin(sound: str) -> Route:
    """A route that reads one six-digit PIN after `sound`."""
    def route(channel: Channel) -> Outcome:
        channel.read_digits([sound], DigitEntry(6, 3000))
        return HangUp(summary=CallSummary(reason="ok"))
    return route


def test_a_number_is_read_with_its_prompts_in_one_command(serve: ServerFactory) -> None:
    """Asterisk drops keys that arrive between two AGI commands: a PIN read as its first key,
    then the rest, lost the second key whenever the AGI program's next command came late.
    The prompts, the first key's longer wait (silence after them) and every key are one Read."""
    numbers: list[str | None] = []

    def route(channel: Channel) -> Outcome:
        pin = DigitEntry(6, first_key_timeout_ms=8000)
        numbers.append(channel.read_digits(["/p/cmn/verify/lead", "/p/cmn/verify/pin"], pin))
        numbers.append(channel.read_digits(["/p/cmn/verify/pin"], pin))
        numbers.append(channel.read_digits([], DigitEntry(3, 2500, 2500, terminator=None)))
        return HangUp(summary=CallSummary(reason="ok"))

    running = serve({"hotline": route})
    with FakeAsterisk.connect(running.port) as fake:
        fake.send_env()
        fake.play([
            set_var("TIMEOUT(digit)", "3"),
            read_command("HOTLINE_DIGITS,/p/cmn/verify/lead&/p/cmn/verify/pin&silence/5,6,"
                         "t(#),1,3"),
            read_result("OK|123456"),
            # The digit timeout is set once while it stays the same.
            read_command("HOTLINE_DIGITS,/p/cmn/verify/pin&silence/5,6,t(#),1,3"),
            read_result("TIMEOUT|"),
            set_var("TIMEOUT(digit)", "2.5"),
            read_command("HOTLINE_DIGITS,,3,t(),1,2.5"),
            read_result("TIMEOUT|12"),
            set_var("IVR_REASON", "ok"),
            set_var("IVR_OUTCOME", "hangup"),
        ])
        fake.expect_closed()
    assert running.sessions.wait()[0].end is SessionEnd.COMPLETED
    assert numbers == ["123456", None, "12"]


def test_a_hang_up_while_keying_a_number_ends_the_call_quietly(serve: ServerFactory) -> None:
    running = serve({"hotline": reading_a_pin("/p/cmn/verify/pin")})
    with FakeAsterisk.connect(running.port) as fake:
        fake.send_env()
        fake.play([
            set_var("TIMEOUT(digit)", "3"),
            read_command("HOTLINE_DIGITS,/p/cmn/verify/pin,6,t(#),1,3"),
            read_result("HANGUP|12"),
        ])
        fake.expect_closed()
    assert running.sessions.wait()[0].end is SessionEnd.HUNG_UP


@pytest.mark.parametrize("sound", ["/p/a,b", "/p/${CALLERID(num)}", "/p/x&silence/1"])
def test_a_sound_path_read_would_misparse_is_refused(serve: ServerFactory, sound: str) -> None:
    """The Read's sounds are one argument string: a comma, & or $ in a path would change what
    Asterisk plays or reads (EXEC expands variables). The caller goes to a human."""
    running = serve({"hotline": reading_a_pin(sound)})
    with FakeAsterisk.connect(running.port) as fake:
        fake.send_env()
        fake.play([set_var("IVR_REASON", "channel-error"), set_var("IVR_OUTCOME", "failed")])
        fake.expect_closed()
    assert running.sessions.wait()[0].end is SessionEnd.FAILED
