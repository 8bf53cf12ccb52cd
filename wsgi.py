"""WSGI entry point: ``gunicorn -k eventlet -w 1 wsgi:app`` (the worker brings eventlet).

As a server, the app runs the deadline scheduler unless ``DELIVERY_SCHEDULER=0``. The app's
own log (scheduler rounds, failed pushes, handler errors) goes to gunicorn's error log: without
a handler here Python would drop everything below WARNING and print the rest bare.
"""

import gc
import logging
import os

from examsvc import create_app

os.environ.setdefault("DELIVERY_SCHEDULER", "1")
_handler = logging.StreamHandler()
_handler.setFormatter(
    logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
)
logging.getLogger("examsvc").addHandler(_handler)
logging.getLogger("examsvc").setLevel(os.environ.get("EXAMSVC_LOG_LEVEL", "INFO"))
app = create_app()
# With thousands of sockets the worker holds hundreds of thousands of long-lived objects, and
# CPython's default full collections stopped it for 0.2-0.6 s every few seconds: the p99 of every
# acknowledgement (bench/README.md). Freeze what loading made and collect the rest less often.
gc.freeze()
gc.set_threshold(10_000, 50, 1_000)
