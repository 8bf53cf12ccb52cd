"""The product's server entry (``wsgi:app``) with a message queue of the benchmark's own:
``gunicorn -k eventlet -w 1 bench.invigilation_wsgi:app`` with ``INVIGILATION_QUEUE`` (a Redis
URL) and ``INVIGILATION_CHANNEL``.

bench.delivery's ``Server`` drops ``SOCKETIO_MESSAGE_QUEUE`` from the server's environment (so
that no server inherits one from the shell), hence the variable of another name. The channel:
Redis pub/sub channels are global, whatever the database number in the URL, and the product
always uses Flask-SocketIO's default channel ``flask-socketio``, so without a channel of its own
the benchmark's pushes would reach every other examsvc process on the same Redis (a developer's
server, the integration tests' on database 14) and theirs would reach the benchmark's boards.
The channel is set on the queue before its listener starts (at the first connection).
"""

from __future__ import annotations

import os

os.environ["SOCKETIO_MESSAGE_QUEUE"] = os.environ.get("INVIGILATION_QUEUE", "")

from examsvc.extensions import socketio
from wsgi import app

if channel := os.environ.get("INVIGILATION_CHANNEL"):
    socketio.server.manager.channel = channel

__all__ = ["app"]
