"""The room-indexed Socket.IO managers behave as python-socketio's own, room for room."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
import socketio

from examsvc.socket_rooms import RedisRooms, Rooms, client_manager

NS = "/exam"


def _server(manager: socketio.Manager) -> socketio.Server:
    server = socketio.Server(client_manager=manager, async_mode="threading")
    ids = itertools.count(1)
    server.eio.generate_id = lambda: f"s{next(ids)}"  # the same sids for both managers
    return server


def _state(manager: socketio.Manager, sids: list[str]) -> dict[str, Any]:
    return {
        "rooms": {
            ns: {room: dict(members) for room, members in rooms.items()}
            for ns, rooms in manager.rooms.items()
        },
        "of": {sid: sorted(map(str, manager.get_rooms(sid, NS))) for sid in sids},
        "callbacks": sorted(manager.callbacks),
        "pending": (manager.pending_connect, manager.pending_disconnect),
        "connected": [manager.is_connected(sid, NS) for sid in sids],
    }


def _run(manager: socketio.Manager, seed: int) -> list[dict[str, Any]]:
    _server(manager)
    rng = random.Random(seed)
    sids: list[str] = []  # every socket ever connected
    live: list[str] = []
    states = []
    for step in range(400):
        choice = rng.random()
        if choice < 0.2 or not live:
            sid = manager.connect(f"e{step}", NS)
            sids.append(sid)
            live.append(sid)
        elif choice < 0.55:
            manager.enter_room(rng.choice(live), NS, f"reg-{rng.randrange(12)}")
        elif choice < 0.7:
            manager.leave_room(rng.choice(live), NS, f"reg-{rng.randrange(12)}")
        elif choice < 0.75:
            manager.close_room(f"reg-{rng.randrange(12)}", NS)
        elif choice < 0.85:
            manager._generate_ack_id(rng.choice(live), lambda *a: None)
        else:
            sid = rng.choice(live)
            if rng.random() < 0.5:
                manager.pre_disconnect(sid, NS)
            manager.disconnect(sid, NS)
            live.remove(sid)
        states.append(_state(manager, sids))
    return states


def test_rooms_callbacks_and_pending_state_match_python_socketio_at_every_step() -> None:
    for seed in range(5):
        assert _run(Rooms(), seed) == _run(socketio.Manager(), seed)


def test_a_disconnect_looks_only_into_the_sockets_own_rooms() -> None:
    manager = Rooms()
    _server(manager)
    sids = [manager.connect(f"e{k}", NS) for k in range(300)]
    for k, sid in enumerate(sids):
        manager.enter_room(sid, NS, f"reg-{k}")
    looked = []
    rooms = manager.rooms[NS]

    class Watched(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            looked.append("scan")
            return super().items()

        def copy(self) -> Any:
            looked.append("scan")
            return super().copy()

    manager.rooms[NS] = Watched(rooms)
    manager.disconnect(sids[0], NS)
    assert looked == []  # python-socketio's own copies and scans every room here
    assert "reg-0" not in manager.rooms[NS] and manager.get_rooms(sids[1], NS) == [sids[1], "reg-1"]


def test_the_message_queue_url_picks_the_manager() -> None:
    assert type(client_manager(None, "examsvc")) is Rooms
    assert type(client_manager("redis://127.0.0.1:6379/0", "examsvc")) is RedisRooms
    with pytest.raises(ValueError, match="redis://"):
        client_manager("amqp://guest:guest@127.0.0.1:5672//", "examsvc")
