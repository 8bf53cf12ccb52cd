"""Stored files (item attachments, candidates' uploads) sent back so that no browser runs them.

Every such file may come from an author's or a candidate's hands, so the answer forbids content
sniffing and sandboxes the document: an HTML "image" or a script in a material cannot act on the
site's origin. The name is sent in RFC 5987 form so Chinese file names survive.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def file_response(
    data: bytes,
    name: str,
    mimetype: str = "application/octet-stream",
    inline: bool = False,
    cache: str = "private, no-store",
) -> Response:
    """``data`` as ``name`` (any folder part dropped), shown inline (images) or downloaded."""
    disposition = "inline" if inline else "attachment"
    shown = quote(name.rsplit("/", 1)[-1])
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{shown}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": cache,
        },
    )
