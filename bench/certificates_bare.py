"""The ceiling for the certificate benchmark: a bare Flask app under the same server as the
product (``gunicorn -k eventlet -w 1 bench.certificates_bare:app``).

``/v/<token>`` answers a constant short page: the cost of HTTP, routing and a response, nothing
else. ``/pure/<token>`` runs the pure ``verify()`` against the JWK set in ``CERT_KEYS_DIR``
(read once) and answers its status as JSON: the cost of the cryptography and decoding alone,
without the product's database lookup, template, sessions and authorization check.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, jsonify

from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.token import verify

PAGE = "<!doctype html><title>ok</title><p>ok</p>"


def create_app() -> Flask:
    app = Flask(__name__)
    folder = os.environ.get("CERT_KEYS_DIR")
    keyset = KeyStore(Path(folder)).keyset() if folder else None

    @app.route("/v/<token>")
    def page(token: str) -> str:
        return PAGE

    @app.route("/pure/<token>")
    def pure(token: str) -> object:
        assert keyset is not None, "set CERT_KEYS_DIR"
        return jsonify(status=verify(token, keyset, datetime.now(UTC)).status.value)

    return app


app = create_app()
