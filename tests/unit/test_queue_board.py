"""The wallboard's view of the floor from AMI QueueStatus (pbx.queue_board)."""

from __future__ import annotations

import pytest

from pbx.queue_board import board_from_status, member_state

pytestmark = pytest.mark.unit


def member(queue: str, status: int, paused: str = "0", in_call: str = "0") -> dict[str, str]:
    return {"Event": "QueueMember", "Queue": queue, "Name": "x", "Status": str(status),
            "Paused": paused, "InCall": in_call}


def test_agents_are_counted_as_a_supervisor_counts_them() -> None:
    assert member_state(member("q", 1)) == "ready"
    assert member_state(member("q", 6)) == "ringing"
    assert member_state(member("q", 2)) == "on a call"
    assert member_state(member("q", 1, paused="1", in_call="1")) == "on a call"  # wrap-up
    assert member_state(member("q", 1, paused="1")) == "paused"
    assert member_state(member("q", 5)) == "offline"
    assert member_state(member("q", 0)) == "ready"  # unknown: reachable, not in use


def test_callers_wait_in_order_with_masked_numbers_only() -> None:
    board = board_from_status([
        {"Event": "QueueParams", "Queue": "cards-cmn", "Calls": "2"},
        member("cards-cmn", 1), member("cards-cmn", 2), member("cards-cmn", 1, paused="1"),
        {"Event": "QueueEntry", "Queue": "cards-cmn", "Position": "2",
         "CallerIDNum": "13911112222", "Wait": "41"},
        {"Event": "QueueEntry", "Queue": "cards-cmn", "Position": "1",
         "CallerIDNum": "+86 139 0000 3333", "Wait": "95"},
        {"Event": "QueueParams", "Queue": "loans-yue", "Calls": "0"},
        {"Event": "QueueStatusComplete"},
    ])
    cards, loans = board
    assert (cards.queue, cards.ready, cards.on_call, cards.paused) == ("cards-cmn", 1, 1, 1)
    assert [c.position for c in cards.waiting] == [1, 2] and cards.longest_wait_s == 95
    assert [c.caller_masked for c in cards.waiting] == ["*********3333", "*******2222"]
    assert "13911112222" not in repr(board)
    assert (loans.queue, loans.waiting, loans.longest_wait_s) == ("loans-yue", [], 0)


def test_garbage_from_the_socket_does_not_break_the_board() -> None:
    board = board_from_status([{"Event": "QueueEntry", "Queue": "q", "Position": "x",
                                "Wait": "-", "CallerIDNum": "<unknown>"}, {"Event": "Foo"}])
    assert board[0].waiting[0].wait_s == 0 and board[0].waiting[0].caller_masked == ""
