"""WSGI entry point: ``gunicorn -k eventlet -w 1 wsgi:app`` (the worker brings eventlet)."""

from examsvc import create_app

app = create_app()
