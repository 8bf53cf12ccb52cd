"""Socket.IO's client manager with an index of the rooms each socket is in.

python-socketio finds the rooms of a socket that goes away by looking into every room of the
namespace (``BaseManager.basic_disconnect``, ``get_rooms``). Each exam socket joins three rooms
(its candidate's, its sign-in's and its exam room's) besides its own, so with 2,000 candidates
connected every disconnect looked into some 6,000 rooms: the disconnects of a hall cost the
server time growing with the square of its size (py-spy: 6 % of the worker in the start storm,
bench/README.md). The managers here keep, per namespace, the rooms each socket has entered,
and a disconnect leaves just those. Everything else is python-socketio's own: the same classes
(in-process, or Redis when several processes share a message queue) with the index
kept beside their rooms.
"""

from __future__ import annotations

from typing import Any

import socketio


class RoomIndex:
    """Keeps ``joined[namespace][sid]``: the rooms (None and the socket's own included) the
    socket is in, updated wherever python-socketio enters or leaves a room."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: dict[str, dict[str, dict[Any, None]]] = {}  # dicts keep the order

    def basic_enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.joined.setdefault(namespace, {}).setdefault(sid, {})[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        by_sid = self.joined.get(namespace, {})
        rooms = by_sid.get(sid)
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del by_sid[sid]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """What python-socketio's does (leave every room, forget the socket's callbacks and
        its pending connect or disconnect), with the socket's rooms taken from the index."""
        if namespace not in self.rooms:
            return
        for room in list(self.joined.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        """The rooms the socket is in (its own room too, not the namespace's None room)."""
        if namespace not in self.rooms:
            return []
        return [room for room in self.joined.get(namespace, {}).get(sid, ()) if room is not None]


class Rooms(RoomIndex, socketio.Manager):
    """One process."""


class RedisRooms(RoomIndex, socketio.RedisManager):
    """Several processes sharing Redis."""


def client_manager(url: str | None, channel: str) -> socketio.Manager:
    """The manager for ``SOCKETIO_MESSAGE_QUEUE``: in-process without one, Redis with one."""
    if not url:
        return Rooms()
    if url.startswith(("redis://", "rediss://")):
        return RedisRooms(url, channel=channel)
    raise ValueError(
        f"SOCKETIO_MESSAGE_QUEUE={url!r}: examsvc's processes share a Redis server; "
        "give a redis:// (or rediss://) URL, or leave it empty for one process"
    )
