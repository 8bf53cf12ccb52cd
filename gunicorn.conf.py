"""gunicorn's settings for examsvc, read from this folder by every ``gunicorn ... wsgi:app``
(``make run``, the tests' and the benchmarks' servers, a site's service). The command line
overrides any of them (``--bind``, ``-w``). README.md, "Deployment", says what they mean for
a site.
"""

# Socket.IO's websockets need an asynchronous worker; gunicorn < 26 still has eventlet's.
worker_class = "eventlet"
workers = 1  # per process: run one per core behind a proxy (README.md)

# Every candidate's websocket holds a connection, and each browser keeps a few more open between
# requests: 1,000 (the default) would leave the 1,001st candidate of a hall waiting to connect.
worker_connections = 10_000

# How long a connection may wait for its next request. The eventlet worker's wait is a timer of
# its event loop, and the loop fires due timers before it reads the sockets: after the worker
# has been busy for longer than this (the start of an exam), it closes connections whose next
# request has already arrived, unread, and the browser sees ERR_CONNECTION_RESET on a script.
# gunicorn's default is 2 s. Longer than ``timeout``: a worker busy for that long is killed and
# replaced anyway, so a live worker never closes a connection this way.
timeout = 30
keepalive = 60
