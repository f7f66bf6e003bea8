"""The SIP benchmark's callers live in a network namespace of their own, joined to the host
by a veth pair: they reach the hotline only through its SIP trunk address, as a carrier
would, with RTP on real (if virtual) interfaces; no packet leaves the machine. Needs root.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


class NetworkError(RuntimeError):
    pass


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class CallerNetwork:
    namespace: str
    host_link: str
    host_address: str  # the hotline's trunk address
    caller_address: str  # the callers' (SIPp's) address inside the namespace

    @classmethod
    def create(cls) -> CallerNetwork:
        if os.geteuid() != 0:
            raise NetworkError("the SIP benchmark needs root (a network namespace for its "
                               "callers)")
        tag = os.getpid() % 200 + 20
        network = cls(f"hotline-callers-{os.getpid()}", f"hlveth{tag}",
                      f"10.231.{tag}.1", f"10.231.{tag}.2")
        network.destroy()  # a stale one from a run that was killed
        caller_link = f"hlpeer{tag}"
        _ip("netns", "add", network.namespace)
        try:
            _ip("link", "add", network.host_link, "type", "veth", "peer", "name", caller_link)
            _ip("link", "set", caller_link, "netns", network.namespace)
            _ip("addr", "add", f"{network.host_address}/30", "dev", network.host_link)
            _ip("link", "set", network.host_link, "up")
            inside = ("netns", "exec", network.namespace, "ip")
            _ip(*inside, "addr", "add", f"{network.caller_address}/30", "dev", caller_link)
            _ip(*inside, "link", "set", caller_link, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except NetworkError:
            network.destroy()
            raise
        return network

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside the callers' namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def destroy(self) -> None:
        for args in (["link", "del", self.host_link], ["netns", "del", self.namespace]):
            subprocess.run(["ip", *args], capture_output=True, check=False)
