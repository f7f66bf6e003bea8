"""The channel adapter: owns pyst2 and turns one AGI connection into an `ivr.ports.Channel`.

What it fixes in pyst2 0.5.1 (unmaintained since 2019):
- its constructor installs a SIGHUP handler (fails outside the main thread) and writes the AGI
  environment to stderr: we side-step the constructor and discard its stderr chatter, because
  the environment and every command/result (digits included) are PII;
- it does not escape arguments: we quote every argument ourselves (`quote`);
- its result parser truncates data at the first space: we parse replies ourselves;
- it reports hang-ups in several shapes (`HANGUP` line, `511`, `result=-1`, `(hangup)`,
  `'hangup'` strings): we map them all to `ivr.errors.CallerHungUp`.
"""

from __future__ import annotations

import io
import logging
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from asterisk.agi import AGI, AGIHangup

from ivr.errors import CallerHungUp, ChannelError
from ivr.ports import ALL_KEYS, DigitEntry

log = logging.getLogger(__name__)

_CODE_LINE = re.compile(r"^(?P<code>\d{3})(?:[ -](?P<rest>.*))?$")
_RESULT = re.compile(r"^result=(?P<result>\S*)(?P<tail>.*)$")
_EXTRA = re.compile(r"\s*(?P<key>\w+)=(?P<value>\S*)")
# Channel states reported by CHANNEL STATUS that mean the caller is still connected.
_LIVE_CHANNEL_STATES = {"4", "5", "6"}
# A number is read by the Read application: it plays the prompts (keys live) and collects
# every key in one AGI command. Its variable, and what may not appear in a sound's path
# (Read's argument separators, `&` between sounds, `$` that EXEC would expand).
DIGITS_VARIABLE = "HOTLINE_DIGITS"
_READ_UNSAFE = set(',&()$"\\[]{}')
# Read waits as long for the first key as between keys: a longer first wait is Asterisk's
# core sounds of silence, silence/1..silence/10 (whole seconds), played after the prompts.
_LONGEST_SILENCE_S = 10
USAGE_END = "520 End of proper usage."
# GOSUB ends its reply in words, not key=value pairs ("200 result=0 Gosub complete").
_WORDED_TAILS = (" Gosub complete",)


def recorded_file(file_stem: str | Path) -> Path:
    """The file RECORD FILE <stem> wav writes. Not `Path.with_suffix`: stems hold the call
    id, and Asterisk's ids have a dot ("1796313116.0-1" would become "1796313116.wav")."""
    stem = Path(file_stem)
    return stem.with_name(stem.name + ".wav")


class AgiProtocolError(ChannelError):
    """Asterisk (or whatever is on the socket) sent something that is not AGI."""


def quote(argument: str | int) -> str:
    """Quote one AGI argument so Asterisk's parser gives back exactly `argument`.

    Asterisk splits on spaces, groups with double quotes and treats backslash as an escape.
    Line breaks cannot be carried at all: they would end the command early.
    """
    text = str(argument)
    if any(ch in text for ch in "\r\n\0"):
        raise ValueError("an AGI argument cannot contain a line break or NUL")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class AgiReply:
    """One parsed `200 result=...` line."""

    result: str
    data: str | None = None
    extras: dict[str, str] = field(default_factory=dict)


def parse_success_line(rest: str) -> AgiReply:
    """Parse what follows `200 ` in a reply, e.g. `result=1 (我 要 转 人工) endpos=800`.

    The parenthesised data may itself contain spaces and parentheses, so take the *last* `)`
    after which only `key=value` pairs follow.
    """
    match = _RESULT.match(rest)
    if match is None:
        raise AgiProtocolError("reply without result=")
    result, tail = match.group("result"), match.group("tail")
    for words in _WORDED_TAILS:
        tail = tail.removesuffix(words)
    data: str | None = None
    if tail.startswith(" ("):
        # The key=value pairs after the data are short: looking for the closing ")" only near
        # the end keeps a hostile 64 kB reply from costing a quadratic scan.
        for close in range(len(tail) - 1, max(1, len(tail) - MAX_EXTRAS_CHARS), -1):
            if tail[close] == ")" and _only_extras(tail[close + 1 :]):
                data, tail = tail[2:close], tail[close + 1 :]
                break
        else:
            raise AgiProtocolError("unterminated data in reply")
    extras = {m.group("key"): m.group("value") for m in _EXTRA.finditer(tail)}
    if not _only_extras(tail):
        raise AgiProtocolError("malformed reply tail")
    return AgiReply(result=result, data=data, extras=extras)


MAX_EXTRAS_CHARS = 512


def _only_extras(text: str) -> bool:
    return _EXTRA.sub("", text).strip() == ""


class _Discard:
    """Stands in for pyst2's stderr: it would write the AGI environment and digits there."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


class _QuietAGI(AGI):  # type: ignore[misc]
    """pyst2's AGI over given text streams, without its signal handler, chatter or parser."""

    def __init__(self, reader: TextIO, writer: TextIO) -> None:
        # Deliberately not calling AGI.__init__: it calls signal.signal() (main thread only)
        # and prints argv and the environment.
        self.stdin = reader
        self.stdout = writer
        self.stderr = _Discard()
        self._got_sighup = False
        self.env = read_environment(reader)

    def get_result(self, stdin: Any = None) -> dict[str, tuple[str, str]]:
        reply = read_reply(self.stdin)
        result: dict[str, tuple[str, str]] = {"result": (reply.result, reply.data or "")}
        for key, value in reply.extras.items():
            result[key] = (value, "")
        return result


def read_reply(reader: TextIO) -> AgiReply:
    """Read one reply from Asterisk, raising CallerHungUp for every shape a hang-up takes."""
    while True:
        line = _read_line(reader)
        if line == "HANGUP":
            # FastAGI's asynchronous hang-up notice; the command's own reply may follow.
            raise CallerHungUp("HANGUP from Asterisk")
        match = _CODE_LINE.match(line)
        if match is None:
            raise AgiProtocolError("unexpected line from Asterisk")
        code, rest = int(match.group("code")), match.group("rest") or ""
        if code == 100:  # "100 result=0 Trying...": GOSUB's progress, its reply follows
            continue
        if code == 200:
            reply = parse_success_line(rest)
            if reply.data == "hangup":
                raise CallerHungUp("hangup reported in reply")
            return reply
        if code == 511:
            raise CallerHungUp("command on a dead channel")
        if code == 520:
            _skip_usage(reader)
            raise AgiProtocolError("Asterisk rejected the command's arguments")
        if code == 510:
            raise AgiProtocolError("Asterisk does not know the command")
        raise AgiProtocolError(f"unhandled AGI reply code {code}")


# Asterisk's longest lines are variable values (a few kB); a peer sending more without a
# newline is not Asterisk, and reading on would buffer it without end.
MAX_LINE_CHARS = 64 * 1024
MAX_ENV_LINES = 200  # Asterisk sends about 25


def read_environment(reader: TextIO) -> dict[str, str]:
    """The AGI environment: `agi_name: value` lines up to a blank one, each and all bounded
    (pyst2's own reader takes any number of lines of any length)."""
    env: dict[str, str] = {}
    for _ in range(MAX_ENV_LINES):
        try:
            line = _read_line(reader)
        except CallerHungUp:
            return env  # closed before (or during) the environment: no call
        if not line.strip():
            return env
        key, _, value = line.partition(":")
        if key.strip():
            env[key.strip()] = value.strip()
    raise AgiProtocolError(f"an AGI environment of more than {MAX_ENV_LINES} lines")


def _read_line(reader: TextIO) -> str:
    try:
        line = reader.readline(MAX_LINE_CHARS + 1)
    except TimeoutError as exc:
        raise ChannelError("no reply from Asterisk in time") from exc
    except OSError as exc:
        raise CallerHungUp("AGI connection lost") from exc
    if line == "":
        raise CallerHungUp("AGI connection closed")
    if len(line) > MAX_LINE_CHARS:
        raise AgiProtocolError(f"a line of more than {MAX_LINE_CHARS} characters")
    return line.rstrip("\r\n")


def _skip_usage(reader: TextIO) -> None:
    while _read_line(reader) != USAGE_END:
        continue


class AgiChannel:
    """`ivr.ports.Channel` over one AGI connection (FastAGI socket or classic stdin/stdout)."""

    def __init__(self, reader: TextIO, writer: TextIO) -> None:
        try:
            self._agi = _QuietAGI(reader, writer)
        except OSError as exc:
            raise CallerHungUp("AGI connection lost before the environment arrived") from exc
        if not self._agi.env:
            # A port probe or an Asterisk that gave up: there is no call to serve.
            raise CallerHungUp("connection closed before the AGI environment")
        self._digit_timeout_ms: int | None = None  # TIMEOUT(digit) as this program set it

    @property
    def env(self) -> dict[str, str]:
        return dict(self._agi.env)

    @property
    def call_id(self) -> str:
        return self._agi.env.get("agi_uniqueid", "unknown")

    @property
    def request(self) -> str:
        """The script name Asterisk asked for: the route to run."""
        env = self._agi.env
        return env.get("agi_network_script") or env.get("agi_arg_1", "")

    def command(self, verb: str, *args: str | int) -> AgiReply:
        """Send one AGI command with quoted arguments and return its reply."""
        quoted = [quote(arg) for arg in args]
        try:
            result = self._agi.execute(verb, *quoted)
        except AGIHangup as exc:
            raise CallerHungUp("pyst2 reported a hang-up") from exc
        except TimeoutError as exc:
            raise ChannelError("AGI write timed out") from exc
        except OSError as exc:
            raise CallerHungUp("AGI connection lost") from exc
        value, data = result["result"]
        extras = {key: pair[0] for key, pair in result.items() if key != "result"}
        reply = AgiReply(result=value, data=data or None, extras=extras)
        if reply.result == "-1":
            self._raise_for_failed(verb)
        log.debug("call %s: %s ok", self.call_id, verb)
        return reply

    def _raise_for_failed(self, verb: str) -> None:
        """`result=-1` means hang-up *or* failure (e.g. a missing sound file). Ask the channel
        which: a live caller must reach a human, not be treated as gone."""
        try:
            status = self._agi.execute("CHANNEL STATUS")["result"][0]
        except AGIHangup as exc:
            raise CallerHungUp(f"{verb} failed after hang-up") from exc
        except OSError as exc:
            raise CallerHungUp("AGI connection lost") from exc
        if status in _LIVE_CHANNEL_STATES:
            raise ChannelError(f"{verb} failed on a live channel")
        raise CallerHungUp(f"{verb} failed; channel state {status}")

    # --- ivr.ports.Channel -------------------------------------------------------------

    def play(self, sound: str, escape_keys: str = ALL_KEYS) -> str | None:
        return _key_or_none(self.command("STREAM FILE", sound, escape_keys).result)

    def wait_for_key(self, timeout_ms: int) -> str | None:
        return _key_or_none(self.command("WAIT FOR DIGIT", timeout_ms).result)

    def read_digits(self, sounds: Sequence[str], entry: DigitEntry) -> str | None:
        files = [*sounds, *first_key_silence(entry)]
        if any(_READ_UNSAFE.intersection(sound) for sound in files):
            raise ChannelError("a sound's path has a character Read would misread")
        if self._digit_timeout_ms != entry.next_key_timeout_ms:
            # Between keys typed over a prompt, Read waits the channel's digit timeout.
            self.set_variable("TIMEOUT(digit)", seconds(entry.next_key_timeout_ms))
            self._digit_timeout_ms = entry.next_key_timeout_ms
        options = f"t({entry.terminator or ''})"
        self.run_application("Read", ",".join([
            DIGITS_VARIABLE, "&".join(files), str(entry.max_digits), options, "1",
            seconds(entry.next_key_timeout_ms)]))
        reply = self.command("GET FULL VARIABLE", f"${{READSTATUS}}|${{{DIGITS_VARIABLE}}}")
        status, _, digits = (reply.data or "").partition("|")
        if status == "HANGUP":
            raise CallerHungUp("hung up while keying a number")
        if status not in ("OK", "TIMEOUT") or not all(ch in ALL_KEYS for ch in digits):
            raise AgiProtocolError(f"Read ended {status[:16]!r}")
        if status == "TIMEOUT" and not digits:
            return None
        return digits

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        """RECORD FILE into `recorded_file(file_stem)`; the key that ended it, if any."""
        # Offset 0 stands in the BEEP slot when there is no beep (anything else there beeps).
        reply = self.command("RECORD FILE", file_stem, "wav", escape_keys, max_duration_ms,
                             "BEEP" if beep else 0, f"s={silence_s}")
        # Only "(dtmf)" carries a key: after a pause or the time limit, `result` holds whatever
        # Asterisk's wait loop last returned (often the milliseconds left), not 0.
        return _key_or_none(reply.result) if reply.data == "dtmf" else None

    def run_application(self, application: str, arguments: str) -> str:
        """EXEC a dialplan application (blocks while it runs); its result code."""
        return self.command("EXEC", application, arguments).result

    def get_variable(self, name: str) -> str | None:
        reply = self.command("GET VARIABLE", name)
        return reply.data if reply.result == "1" else None

    def set_variable(self, name: str, value: str) -> None:
        self.command("SET VARIABLE", name, value)


def first_key_silence(entry: DigitEntry) -> list[str]:
    """Silence after the prompts, so that the first key may take `first_key_timeout_ms`:
    Read itself waits `next_key_timeout_ms` for any key (rounded up to whole seconds)."""
    extra_s = -(-(entry.first_key_timeout_ms - entry.next_key_timeout_ms) // 1000)
    files = []
    while extra_s > 0:
        files.append(f"silence/{min(extra_s, _LONGEST_SILENCE_S)}")
        extra_s -= _LONGEST_SILENCE_S
    return files


def seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:g}"


def _key_or_none(result: str) -> str | None:
    if result == "0":
        return None
    try:
        return chr(int(result))
    except ValueError as exc:
        raise AgiProtocolError("key result is not a character code") from exc


class _QuickAckReader(io.RawIOBase):
    """Reads a FastAGI socket acknowledging every segment at once. Asterisk answers some
    commands in two writes (GOSUB: `100 Trying`, then the result) without TCP_NODELAY: with
    the kernel's delayed ACK its second write waited 40 ms for our ACK of the first (seen
    in the load benchmark as a 40 ms step after every GOSUB)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if _TCP_QUICKACK is not None:
            try:  # quick-ack mode is not sticky: set it before each read
                self.sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            except OSError:
                pass
        return self.sock.recv_into(buffer)


_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def open_socket_streams(sock: socket.socket) -> tuple[TextIO, TextIO]:
    """Text streams over a FastAGI socket. Undecodable bytes become U+FFFD so that garbage
    on the socket is reported as a protocol error instead of crashing the reader."""
    reader = io.TextIOWrapper(io.BufferedReader(_QuickAckReader(sock)), encoding="utf-8",
                              errors="replace", newline="\n")
    writer = sock.makefile("w", encoding="utf-8", newline="\n")
    return reader, writer
