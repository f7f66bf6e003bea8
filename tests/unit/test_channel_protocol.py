"""Quoting and reply parsing of the channel adapter."""

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agi.channel import (
    MAX_ENV_LINES,
    AgiProtocolError,
    first_key_silence,
    parse_success_line,
    quote,
    read_environment,
    read_reply,
)
from ivr.errors import CallerHungUp
from ivr.ports import DigitEntry


@pytest.mark.parametrize(("raw", "wire"), [
    ("hello-world", '"hello-world"'),
    ("", '""'),
    ('a "b"', '"a \\"b\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("我 要 转 人工", '"我 要 转 人工"'),
    (5000, '"5000"'),
])
def test_quote(raw: str | int, wire: str) -> None:
    assert quote(raw) == wire


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b"])
def test_quote_refuses_line_breaks(bad: str) -> None:
    with pytest.raises(ValueError):
        quote(bad)


@pytest.mark.parametrize(("rest", "result", "data", "extras"), [
    ("result=0", "0", None, {}),
    ("result=49 endpos=4000", "49", None, {"endpos": "4000"}),
    ("result=1 (我 要 转 人工)", "1", "我 要 转 人工", {}),
    ("result=1 (a (nested) value) x=1", "1", "a (nested) value", {"x": "1"}),
    ("result=0 (timeout) endpos=8000", "0", "timeout", {"endpos": "8000"}),
    ("result=1 ()", "1", "", {}),
])
def test_parse_success_line(rest: str, result: str, data: str | None,
                            extras: dict[str, str]) -> None:
    reply = parse_success_line(rest)
    assert (reply.result, reply.data, reply.extras) == (result, data, extras)


@pytest.mark.parametrize("rest", ["nothing", "result=1 (unterminated", "result=1 junk"])
def test_parse_rejects_malformed(rest: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_success_line(rest)


@pytest.mark.parametrize("stream", [
    "HANGUP\n200 result=-1\n",
    "511 Command Not Permitted on a dead channel or intercept routine\n",
    "200 result=0 (hangup)\n",
    "",
])
def test_every_shape_of_hangup(stream: str) -> None:
    with pytest.raises(CallerHungUp):
        read_reply(io.StringIO(stream))


def test_usage_reply_is_consumed_and_reported() -> None:
    reader = io.StringIO("520-Invalid command syntax.  Proper usage follows:\nUsage: X\n"
                         "520 End of proper usage.\n200 result=0\n")
    with pytest.raises(AgiProtocolError):
        read_reply(reader)
    assert read_reply(reader).result == "0"  # the stream stays in step


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=300),
       st.integers(min_value=0, max_value=10**9))
def test_any_data_comes_back_as_sent(data: str, endpos: int) -> None:
    """Whatever Asterisk puts in the parentheses (spaces, parentheses, '=' included) is the
    data; what follows is the extras."""
    reply = parse_success_line(f"result=1 ({data}) endpos={endpos}")
    assert (reply.result, reply.data, reply.extras) == ("1", data, {"endpos": str(endpos)})


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400))
def test_any_reply_line_parses_or_is_a_protocol_error(rest: str) -> None:
    try:
        parse_success_line(rest)
    except AgiProtocolError:
        pass


def test_a_hostile_long_reply_is_parsed_in_linear_time() -> None:
    started = time.monotonic()
    with pytest.raises(AgiProtocolError):
        parse_success_line("result=1 (" + "x)" * 30_000 + " not=extras ~")
    assert time.monotonic() - started < 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=80),
                max_size=300))
def test_any_environment_is_read_bounded_or_refused(lines: list[str]) -> None:
    stream = io.StringIO("".join(f"{line}\n" for line in lines) + "\n")
    try:
        env = read_environment(stream)
    except AgiProtocolError:
        assert len(lines) >= MAX_ENV_LINES
        return
    assert len(env) <= MAX_ENV_LINES
    assert all(key == key.strip() and key for key in env)


@pytest.mark.parametrize(("first_ms", "next_ms", "silence"), [
    (8000, 3000, ["silence/5"]),
    (6000, 2500, ["silence/4"]),  # rounded up: the caller gets at least the wait asked for
    (3000, 3000, []),
    (2000, 3000, []),  # Read waits the longer of the two
    (30000, 500, ["silence/10", "silence/10", "silence/10"]),
])
def test_the_first_keys_longer_wait_is_silence_after_the_prompts(
        first_ms: int, next_ms: int, silence: list[str]) -> None:
    assert first_key_silence(DigitEntry(6, first_ms, next_ms)) == silence
