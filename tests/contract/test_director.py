"""The load benchmarks' director and its callers' lines. Over SIP, against a strict fake SIPp
on a real twin socket: it must speak SIPp's 3PCC framing (ESC after each message), press only
when the hotline waits, keep a number typed in one go as one turn, stay silent where the
transcript does, and hang up a caller whose patience has run out. Over `Local/` channels,
against a strict fake AMI: the same turns as Redirects of the caller's leg."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import director as director_module
from bench.director import Director, sounds_of
from bench.local_callers import CALLER_CONTEXT, LocalCallers
from bench.sip_caller import HANG_UP_ACT, KEYS_ACT, SILENCE_BEFORE_MS, keys_play_ms
from bench.sip_plans import SipPlan
from bench.sip_twin import TWIN_DELIMITER, SippTwin
from pbx.ami import AmiError, Event

NET_WORDS_MS = 480


class FakeSipp:
    """SIPp's side of the twin socket: connects, reports calls answered and acts done, and
    fails the test on anything that is not a well-formed command for a call it placed."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=5)
        self.buffer = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.replace("\n", "\r\n").encode() + TWIN_DELIMITER)

    def answered(self, call: str, plan: int) -> None:
        self.send(f"Call-ID: {call}\nDone: answered\nPlan: {plan}\n\n")

    def next_command(self, timeout_s: float = 5.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout_s
        while TWIN_DELIMITER not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(4096)
            assert chunk, "the director closed the twin socket"
            self.buffer += chunk
        message, self.buffer = self.buffer.split(TWIN_DELIMITER, 1)
        assert message.endswith(b"\r\n\r\n"), message  # SIPp's parser needs the blank line
        headers = dict(line.split(": ", 1) for line in message.decode().strip().split("\r\n"))
        assert set(headers) <= {"Call-ID", "Act", "Keys", "PlayMs"}, headers
        return headers

    def nothing_sent(self, within_s: float) -> bool:
        self.sock.settimeout(within_s)
        try:
            return not self.sock.recv(4096)
        except TimeoutError:
            return True


@pytest.fixture(autouse=True)
def quick_reaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(director_module, "REACTION_S", 0.05)


def running() -> bool:
    return True


PLANS = [SipPlan("cards", "139", ("1", None, "2468"), "queue", "cards"),
         SipPlan("speech", "137", ("say=caller/net",), "queue", "collections"),
         SipPlan("streamed", "137", ("say=caller/net",), "queue", "collections",
                 prompt_ms=600),
         SipPlan("tones", "138", ("play=key-1&1",), "queue", "cards")]


@pytest.fixture
def director() -> Iterator[Director]:
    made = Director(PLANS, {"say=caller/net": NET_WORDS_MS}, patience_s=60)
    yield made
    made.stop()


@pytest.fixture
def twin(director: Director) -> Iterator[SippTwin]:
    made = SippTwin(director, ["say=caller/net"], ("127.0.0.1", 0))
    director.start(made)
    yield made
    made.stop()


@pytest.fixture
def connect(twin: SippTwin) -> Callable[[], FakeSipp]:
    def connected() -> FakeSipp:
        sipp = FakeSipp(twin.listen())
        twin.accept(running)
        return sipp
    return connected


@pytest.fixture
def answered_call(director: Director,
                  connect: Callable[[], FakeSipp]) -> Callable[[int], FakeSipp]:
    """SIPp connected, and plan `plan`'s call known to Asterisk (uniqueid "<plan+1>.0") and
    answered (SIPp's call "sipp-<plan+1>")."""
    return lambda plan: _answered(director, connect(), plan)


def _answered(director: Director, sipp: FakeSipp, plan: int) -> FakeSipp:
    director.on_event({"Event": "UserEvent", "UserEvent": "BenchSipCall",
                       "Uniqueid": f"{plan + 1}.0", "Plan": str(plan)})
    sipp.answered(f"sipp-{plan + 1}", plan)
    deadline = time.monotonic() + 5  # the director has read it (its own thread)
    while director.callers[plan].answered_at is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return sipp


def wait(director: Director, uniqueid: str, command: str = 'WAIT FOR DIGIT "5000"') -> None:
    """The hotline waits (Asterisk's events of the command's start and end)."""
    for event in ("AGIExecStart", "AGIExecEnd"):
        director.on_event({"Event": event, "Uniqueid": uniqueid, "Command": command})


def settled(director: Director, index: int = 0) -> None:
    """The director has read SIPp's Done (as the hotline's next wait comes after the key
    was heard and the next prompt played)."""
    deadline = time.monotonic() + 5
    while director.callers[index].busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not director.callers[index].busy


def test_keys_come_when_the_hotline_waits_and_silence_where_the_transcript_is_silent(
        director: Director, answered_call: Callable[[int], FakeSipp]) -> None:
    sipp = answered_call(0)
    assert sipp.nothing_sent(0.3)  # the hotline has not asked anything yet
    wait(director, "1.0")
    assert sipp.next_command() == {"Call-ID": "sipp-1", "Act": str(KEYS_ACT), "Keys": "1",
                                   "PlayMs": str(keys_play_ms("1"))}
    sipp.send("Call-ID: sipp-1\nDone: keys\n\n")
    settled(director)
    wait(director, "1.0")  # the transcript's caller stays silent here
    assert sipp.nothing_sent(0.3)
    wait(director, "1.0")
    assert sipp.next_command()["Keys"] == "2468"
    # While the number is being typed the IVR collects the rest: the same turn, no new act.
    wait(director, "1.0", 'GET DATA "silence/1" "3000" "18"')
    assert sipp.nothing_sent(0.3)
    sipp.send("Call-ID: sipp-1\nDone: keys\n\n")
    settled(director)
    wait(director, "1.0")  # past the transcript: silence, counted
    assert sipp.nothing_sent(0.3)
    assert director.callers[0].unexpected_waits == 1
    sipp.send("Call-ID: sipp-1\nDone: ended\n\n")
    deadline = time.monotonic() + 5
    while director.ended_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert director.ended_count() == 1 and director.uniqueids() == ["1.0"]


def test_a_wait_seen_before_the_call_is_known_is_answered_once_it_is(
        director: Director, connect: Callable[[], FakeSipp]) -> None:
    sipp = connect()
    sipp.answered("sipp-2", 1)
    wait(director, "2.0", 'RECORD FILE "/x/utt" "wav" "0123456789*#" "20000" "0" "s=2"')
    director.on_event({"Event": "UserEvent", "UserEvent": "BenchSipCall",
                       "Uniqueid": "2.0", "Plan": "1"})
    before = time.time()
    assert sipp.next_command() == {"Call-ID": "sipp-2", "Act": "20"}
    after = time.time()
    # When the words end: the line's leading silence and the words after the act was sent.
    (ended,) = director.callers[1].words_ended
    words_s = (SILENCE_BEFORE_MS + NET_WORDS_MS) / 1000
    assert before + words_s <= ended <= after + words_s


def test_a_streaming_line_s_caller_lets_the_prompt_in_the_wait_end(
        director: Director, answered_call: Callable[[int], FakeSipp]) -> None:
    sipp = answered_call(2)
    wait(director, "3.0", 'EXEC "AudioSocket" "6f1c,127.0.0.1:4575"')
    assert sipp.nothing_sent(0.45)  # the 600 ms prompt is still playing
    assert sipp.next_command() == {"Call-ID": "sipp-3", "Act": "20"}


def test_a_caller_kept_past_their_patience_hangs_up(
        director: Director, connect: Callable[[], FakeSipp]) -> None:
    director.patience_s = 0.2
    sipp = connect()
    sipp.answered("sipp-1", 0)
    assert sipp.next_command() == {"Call-ID": "sipp-1", "Act": str(HANG_UP_ACT)}
    assert director.callers[0].hung_up_by_caller


def test_patience_counts_from_the_hotline_s_latest_wait(
        director: Director, answered_call: Callable[[int], FakeSipp]) -> None:
    director.patience_s = 1.0
    sipp = answered_call(0)
    wait(director, "1.0")
    assert sipp.next_command()["Keys"] == "1"
    sipp.send("Call-ID: sipp-1\nDone: keys\n\n")
    settled(director)
    for _ in range(8):  # 1.6 s in all, each wait well within the patience
        time.sleep(0.2)
        wait(director, "1.0", 'GET DATA "silence/1" "3000" "18"')
    assert not director.callers[0].hung_up_by_caller
    assert sipp.next_command()["Keys"] == "2468"  # the third wait's turn
    sipp.send("Call-ID: sipp-1\nDone: keys\n\n")
    assert sipp.next_command()["Act"] == str(HANG_UP_ACT)  # asked nothing more: gone
    assert director.callers[0].hung_up_by_caller


def test_garbage_on_the_twin_socket_is_ignored(
        director: Director, connect: Callable[[], FakeSipp]) -> None:
    sipp = connect()
    sipp.send("no headers at all")
    sipp.send("Call-ID: unknown\nDone: keys\n\n")
    sipp.send("Call-ID: x\nDone: answered\nPlan: 99\n\n")  # no such plan
    sipp.answered("sipp-1", 0)
    director.on_event({"Event": "UserEvent", "UserEvent": "BenchSipCall",
                       "Uniqueid": "1.0", "Plan": "0"})
    wait(director, "1.0")
    assert sipp.next_command()["Keys"] == "1"


# -- Local/ callers over AMI ----------------------------------------------------------------

ACTION_HEADERS = {  # what each action the callers may send must carry
    "Originate": {"Channel", "Context", "Exten", "Priority", "ChannelId", "OtherChannelId",
                  "CallerID", "Timeout", "Async", "Variable"},
    "Setvar": {"Channel", "Variable", "Value"},
    "Redirect": {"Channel", "Context", "Exten", "Priority"},
    "Hangup": {"Channel"},
}


class FakeAmi:
    """Asterisk's manager as the callers see it: refuses an action it does not know or one
    without the headers Asterisk needs, and a channel named `gone`."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, str | list[str]]]] = []
        self.gone: set[str] = set()

    def action(self, name: str, **headers: str | list[str]) -> Event:
        assert set(headers) == ACTION_HEADERS[name], (name, headers)
        if headers.get("Channel") in self.gone:
            raise AmiError(f"AMI action {name}: No such channel")
        self.actions.append((name, headers))
        return {"Response": "Success"}

    def taken(self) -> list[tuple[str, dict[str, str | list[str]]]]:
        taken, self.actions = self.actions, []
        return taken


def wait_for_actions(ami: FakeAmi, count: int) -> list[tuple[str, dict[str, str | list[str]]]]:
    deadline = time.monotonic() + 5
    while len(ami.actions) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return ami.taken()


def nothing_done(ami: FakeAmi, within_s: float = 0.3) -> bool:
    time.sleep(within_s)
    return not ami.taken()


@pytest.fixture
def local_line(director: Director,
               tmp_path: Path) -> Iterator[tuple[LocalCallers, FakeAmi]]:
    ami = FakeAmi()
    line = LocalCallers(director, ami, tmp_path)  # type: ignore[arg-type]
    director.start(line)
    yield line, ami


def placed(line: LocalCallers, ami: FakeAmi, plan: int) -> tuple[str, str]:
    """Plan `plan`'s call originated and its caller leg on the line: (hotline, caller)."""
    hotline = line.place(plan, PLANS[plan], "agi://127.0.0.1:4573/cards")
    ((name, headers),) = ami.taken()
    assert name == "Originate" and headers["OtherChannelId"] == hotline
    assert headers["Context"] == CALLER_CONTEXT
    assert f"BENCH_PLAN={plan}" in headers["Variable"]
    assert "__HOTLINE_AGI_URL=agi://127.0.0.1:4573/cards" in headers["Variable"]
    caller = str(headers["ChannelId"])
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchLocalCall", "Caller": caller,
                   "Plan": str(plan)})
    return hotline, caller


def test_a_local_caller_acts_by_redirects_when_the_hotline_waits(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    line, ami = local_line
    hotline, caller = placed(line, ami, 0)
    assert nothing_done(ami)  # nothing asked yet
    wait(director, hotline)
    assert wait_for_actions(ami, 2) == [
        ("Setvar", {"Channel": caller, "Variable": "BENCH_KEYS", "Value": "1"}),
        ("Redirect", {"Channel": caller, "Context": CALLER_CONTEXT, "Exten": "keys",
                      "Priority": "1"})]
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    settled(director)
    wait(director, hotline)  # silent here
    assert nothing_done(ami)
    wait(director, hotline)
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["2468"]
    line.on_event({"Event": "UserEvent", "UserEvent": "HotlineCallEnded",
                   "Uniqueid": hotline})
    assert director.ended_count() == 1 and director.uniqueids() == [hotline]


def test_a_local_caller_says_its_word_from_the_sounds_folder(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    line, ami = local_line
    hotline, caller = placed(line, ami, 1)
    wait(director, hotline, 'RECORD FILE "/x/utt" "wav" "0123456789*#" "20000" "0" "s=2"')
    assert wait_for_actions(ami, 2) == [
        ("Setvar", {"Channel": caller, "Variable": "BENCH_SOUND", "Value": "caller/net"}),
        ("Redirect", {"Channel": caller, "Context": CALLER_CONTEXT, "Exten": "say",
                      "Priority": "1"})]
    assert len(director.callers[1].words_ended) == 1  # no leading silence on Local/


def test_a_turn_of_tones_then_keys_plays_them_in_order_each_after_the_last_is_done(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    """In-band key tones (a sound played with no pause), then the keys themselves: the second
    act waits until the first has been played."""
    line, ami = local_line
    hotline, caller = placed(line, ami, 3)
    wait(director, hotline)
    assert wait_for_actions(ami, 2) == [
        ("Setvar", {"Channel": caller, "Variable": "BENCH_SOUND", "Value": "key-1"}),
        ("Redirect", {"Channel": caller, "Context": CALLER_CONTEXT, "Exten": "play",
                      "Priority": "1"})]
    assert nothing_done(ami)  # the tones are still playing
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    assert wait_for_actions(ami, 2) == [
        ("Setvar", {"Channel": caller, "Variable": "BENCH_KEYS", "Value": "1"}),
        ("Redirect", {"Channel": caller, "Context": CALLER_CONTEXT, "Exten": "keys",
                      "Priority": "1"})]
    wait(director, hotline)  # the hotline's next wait while the keys play: the same turn
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    assert nothing_done(ami)


def test_a_refused_act_is_counted_and_does_not_leave_the_caller_stuck(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    line, ami = local_line
    hotline, caller = placed(line, ami, 0)
    ami.gone.add(caller)
    wait(director, hotline)
    deadline = time.monotonic() + 5
    while not line.failed_acts and time.monotonic() < deadline:
        time.sleep(0.01)
    assert line.failed_acts and "No such channel" in line.failed_acts[0]
    settled(director)


def test_a_local_caller_past_their_patience_is_hung_up(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    director.patience_s = 0.2
    line, ami = local_line
    _hotline, caller = placed(line, ami, 0)
    assert wait_for_actions(ami, 1) == [("Hangup", {"Channel": caller})]
    assert director.callers[0].hung_up_by_caller


def test_no_patience_runs_out_while_the_hotline_speaks(
        director: Director, answered_call: Callable[[int], FakeSipp]) -> None:
    """A long prompt is the hotline talking: the caller's patience counts from its end."""
    director.patience_s = 0.3
    sipp = answered_call(0)
    prompt = 'STREAM FILE "/prompts/cmn/welcome" ""'
    director.on_event({"Event": "AGIExecStart", "Uniqueid": "1.0", "Command": prompt})
    assert sipp.nothing_sent(0.8)  # well past the patience, the prompt still playing
    director.on_event({"Event": "AGIExecEnd", "Uniqueid": "1.0", "Command": prompt})
    assert sipp.next_command()["Act"] == str(HANG_UP_ACT)  # then silence: gone


def test_a_caller_who_knows_the_menus_presses_over_the_prompt_its_plan_names(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    line, ami = local_line
    director.callers[0].plan = SipPlan("cards", "139", ("2", "2"), "queue", "cards",
                                       barge_at=("/cmn/lang/choose_cmn", None))
    hotline, caller = placed(line, ami, 0)
    prompt = 'STREAM FILE "/x/prompts/cmn/welcome/greeting" ""'
    director.on_event({"Event": "AGIExecStart", "Uniqueid": hotline, "Command": prompt})
    assert nothing_done(ami)  # not the prompt it waits for
    prompt = 'STREAM FILE "/x/prompts/cmn/lang/choose_cmn" "0123456789*#"'
    director.on_event({"Event": "AGIExecStart", "Uniqueid": hotline, "Command": prompt})
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["2"]
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    settled(director)
    prompt = 'STREAM FILE "/x/prompts/yue/main/menu" "0123456789*#"'
    director.on_event({"Event": "AGIExecStart", "Uniqueid": hotline, "Command": prompt})
    assert nothing_done(ami)  # this turn is taken at the wait
    wait(director, hotline)
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["2"]


READ_PIN = ('EXEC "Read" "HOTLINE_DIGITS,/x/cmn/verify/lead&/x/cmn/verify/pin&silence/5,6,'
            't(#),1,3"')


def prompt_lengths(**ms: int) -> Callable[[str], int]:
    """The verify prompts' lengths in ms (by their last name); 0 for anything else."""
    return lambda sound: ms.get(sound.removeprefix("/x/cmn/verify/"), 0) \
        if sound.startswith("/x/cmn/verify/") else 0


def test_a_number_read_in_one_command_is_typed_once_its_prompts_have_played(
        director: Director, answered_call: Callable[[int], FakeSipp]) -> None:
    """A Read plays its prompts, then waits: the caller types once their words end (the
    silence after them is the first key's longer wait, not words)."""
    director.sound_ms = prompt_lengths(lead=200, pin=400)
    sipp = answered_call(0)
    wait(director, "1.0")
    assert sipp.next_command()["Keys"] == "1"
    sipp.send("Call-ID: sipp-1\nDone: keys\n\n")
    settled(director)
    wait(director, "1.0")  # silent here
    started = time.monotonic()
    director.on_event({"Event": "AGIExecStart", "Uniqueid": "1.0", "Command": READ_PIN})
    assert sipp.next_command()["Keys"] == "2468"
    assert time.monotonic() - started >= 0.6  # 0.2 + 0.4 s of prompts, then the reaction


def test_a_caller_who_knows_the_menus_types_over_a_read_s_prompt(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    line, ami = local_line
    director.sound_ms = prompt_lengths(lead=300, pin=3000)
    director.callers[0].plan = SipPlan("pin", "139", ("123456", "9"), "queue", "cards",
                                       barge_at=("/cmn/verify/pin", None))
    hotline, caller = placed(line, ami, 0)
    started = time.monotonic()
    director.on_event({"Event": "AGIExecStart", "Uniqueid": hotline, "Command": READ_PIN})
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["123456"]
    took_s = time.monotonic() - started
    assert 0.3 <= took_s < 3.0  # over the PIN prompt: after the lead, before its end
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    settled(director)
    wait(director, hotline)  # the next turn is the next wait's
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["9"]


@pytest.mark.parametrize(("command", "sounds"), [
    ('STREAM FILE "/x/cmn/main/menu" "0123456789*#"', ["/x/cmn/main/menu"]),
    (READ_PIN, ["/x/cmn/verify/lead", "/x/cmn/verify/pin", "silence/5"]),
    ('EXEC "Read" "HOTLINE_DIGITS,,3,t(),1,2.5"', []),
    ('WAIT FOR DIGIT "5000"', []),
    ('STREAM FILE "unterminated', []),
])
def test_the_sounds_a_command_plays(command: str, sounds: list[str]) -> None:
    assert sounds_of(command) == sounds


def test_a_caller_whose_turns_are_taken_talks_on_and_still_hangs_up_at_its_patience(
        director: Director, local_line: tuple[LocalCallers, FakeAmi]) -> None:
    """Talk is audio for an agent to hear: sent once the last turn's act is done, never
    reported done, and no bar to hanging up when the caller's patience runs out."""
    line, ami = local_line
    director.callers[0].plan = SipPlan("desk", "139", ("1",), "queue", "cards",
                                       talk="cmn/noagent/menu")
    hotline, caller = placed(line, ami, 0)
    wait(director, hotline)
    assert [h["Value"] for n, h in wait_for_actions(ami, 2) if n == "Setvar"] == ["1"]
    line.on_event({"Event": "UserEvent", "UserEvent": "BenchActDone", "Caller": caller})
    talk = wait_for_actions(ami, 2)
    assert [(n, h.get("Value") or h.get("Exten")) for n, h in talk] == [
        ("Setvar", "cmn/noagent/menu"), ("Redirect", "talk")]
    director.patience_s = 0.2
    assert [n for n, _h in wait_for_actions(ami, 1)] == ["Hangup"]
