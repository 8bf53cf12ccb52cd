"""WSGI entry point: ``gunicorn -k eventlet -w 1 wsgi:app`` (the worker brings eventlet).

As a server, the app runs the deadline scheduler unless ``DELIVERY_SCHEDULER=0``.
"""

import os

from examsvc import create_app

os.environ.setdefault("DELIVERY_SCHEDULER", "1")
app = create_app()
