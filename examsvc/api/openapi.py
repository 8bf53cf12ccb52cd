"""The OpenAPI 3.1 description of /api/v1, kept beside the routes it describes.

A test checks that every /api/v1 route is described here and every path here is routed.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_PROBLEM = {
    "description": "What is wrong; ``details`` lists every problem, each naming its field",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_UNAUTHORIZED = {
    "description": "Missing, unknown or revoked token",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_NOT_FOUND = {
    "description": "No such plan, or not one of yours",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_PLAN_ID = {"name": "plan_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _json(ref: str, array: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": f"#/components/schemas/{ref}"}
    if array:
        schema = {"type": "array", "items": schema}
    return {"application/json": {"schema": schema}}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "examples": ["invalid"]},
            "message": _TEXT,
            "details": {"type": "array", "items": _TEXT},
        },
    },
    "Session": {
        "type": "object",
        "properties": {
            "part": {"type": "string", "enum": ["theory", "practical"]},
            "name": _TEXT,
            "starts_at": {"type": "string", "description": "site-local time, ISO 8601"},
            "ends_at": {"type": "string"},
        },
    },
    "Plan": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "certificate": _TEXT,
            "level": {"type": "string", "examples": ["初级"]},
            "batch": _TEXT,
            "state": {"type": "string", "enum": ["draft", "published", "in_progress", "closed"]},
            "state_name": _TEXT,
            "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
            "sites": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": _TEXT},
                },
            },
            "fees": {"type": "object", "additionalProperties": _TEXT, "description": "元 per part"},
        },
    },
    "NewRegistration": {
        "type": "object",
        "required": ["name", "id_number", "gender", "institution"],
        "properties": {
            "site_id": {
                "type": "integer",
                "description": "needed when the plan has several of your sites",
            },
            "name": {"type": "string", "examples": ["李明"]},
            "id_number": {"type": "string", "description": "18-character resident ID (GB 11643)"},
            "gender": {"type": "string", "enum": ["男", "女"]},
            "institution": _TEXT,
            "major": _TEXT,
            "class_name": _TEXT,
            "phone": _TEXT,
            "poor_family": {"type": "boolean", "description": "建档立卡: exempt from the fee"},
            "level": {"type": "string", "enum": ["初级", "中级", "高级"]},
            "certificates": {"type": "array", "items": _TEXT},
            "years_in_trade": {"type": "number", "minimum": 0},
            "education": {
                "type": "string",
                "enum": ["初中", "中职", "高中", "高职", "大专", "本科", "硕士", "博士"],
            },
            "trained": {"type": "boolean", "description": "passed this level's training"},
            "graduating": {"type": "boolean", "description": "in the final year (应届)"},
        },
    },
    "Verification": {
        "type": "object",
        "required": ["status", "status_name", "message", "revocation_checked", "certificate"],
        "properties": {
            "status": {
                "type": "string",
                "enum": [
                    "valid",
                    "revoked",
                    "expired",
                    "invalid_signature",
                    "unknown_key",
                    "malformed",
                ],
            },
            "status_name": {"type": "string", "examples": ["有效"]},
            "message": {"type": "string", "description": "why, in Chinese"},
            "kid": {"type": ["string", "null"], "description": "the signing key's id"},
            "check_code": {
                "type": ["string", "null"],
                "description": "XXXX-XXXX, as printed under the QR (signed tokens only)",
            },
            "revocation_checked": {"type": "boolean"},
            "certificate": {
                "oneOf": [{"$ref": "#/components/schemas/CertificateFacts"}, {"type": "null"}],
                "description": "only for valid, revoked and expired",
            },
        },
    },
    "CertificateFacts": {
        "type": "object",
        "properties": {
            "number": {"type": "string", "examples": ["S000137000123255000001"]},
            "name": _TEXT,
            "id_number_masked": {"type": "string", "description": "all but the last 4 masked"},
            "id_last4": _TEXT,
            "certificate": {"type": "string", "description": "catalog code, e.g. web-frontend"},
            "certificate_name": _TEXT,
            "level": {"type": "integer", "description": "national level 1–5 (初级 = 5)"},
            "level_name": {"type": "string", "examples": ["初级（五级）"]},
            "issued": {"type": "string", "format": "date"},
            "expires": {"type": ["string", "null"], "format": "date"},
            "issuer": {"type": ["string", "null"]},
            "status_list": _TEXT,
            "status_index": {"type": "integer"},
            "revocation": {
                "type": ["object", "null"],
                "properties": {"date": {"type": "string", "format": "date"}, "reason": _TEXT},
            },
        },
    },
    "Registration": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": _TEXT,
            "id_number": _TEXT,
            "institution": _TEXT,
            "class_name": _TEXT,
            "site_id": {"type": "integer"},
            "room": {"type": ["string", "null"]},
            "seat": {"type": ["integer", "null"]},
            "ticket_number": {"type": ["string", "null"], "description": "15 characters"},
            "fee": {"type": "string", "description": "元"},
            "exempt": {"type": "boolean"},
        },
    },
}


def document(server: str) -> dict[str, Any]:
    """The description, with ``server`` (this deployment's /api/v1 base) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "examsvc API",
            "version": "1",
            "description": (
                "Register candidates for exam plans and read their seats and ticket numbers. "
                "Create a token on the 「API 令牌」 page; it acts with your account's rights."
            ),
        },
        "servers": [{"url": server.removesuffix("/plans")}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/plans": {
                "get": {
                    "summary": "Plans you may register candidates for",
                    "responses": {
                        "200": {"description": "Plans", "content": _json("Plan", array=True)},
                        "401": _UNAUTHORIZED,
                    },
                }
            },
            "/plans/{plan_id}": {
                "get": {
                    "summary": "One plan",
                    "parameters": [_PLAN_ID],
                    "responses": {
                        "200": {"description": "The plan", "content": _json("Plan")},
                        "401": _UNAUTHORIZED,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/plans/{plan_id}/registrations": {
                "get": {
                    "summary": "Registered candidates with their room, seat and ticket number",
                    "parameters": [_PLAN_ID],
                    "responses": {
                        "200": {
                            "description": "Registrations (a site admin sees their site's)",
                            "content": _json("Registration", array=True),
                        },
                        "401": _UNAUTHORIZED,
                        "404": _NOT_FOUND,
                    },
                },
                "post": {
                    "summary": "Register one candidate (draft plans only)",
                    "parameters": [_PLAN_ID],
                    "requestBody": {"required": True, "content": _json("NewRegistration")},
                    "responses": {
                        "201": {"description": "Registered", "content": _json("Registration")},
                        "401": _UNAUTHORIZED,
                        "404": _NOT_FOUND,
                        "409": _PROBLEM,
                        "422": _PROBLEM,
                    },
                },
            },
            "/plans/{plan_id}/registrations/{registration_id}": {
                "delete": {
                    "summary": "Withdraw a registration (draft plans only)",
                    "parameters": [
                        _PLAN_ID,
                        {
                            "name": "registration_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                    "responses": {
                        "204": {"description": "Withdrawn"},
                        "401": _UNAUTHORIZED,
                        "404": _NOT_FOUND,
                        "409": _PROBLEM,
                    },
                }
            },
            "/verify/{token}": {
                "get": {
                    "summary": "Verify a certificate's QR token (the part after /v/ in its URL)",
                    "description": (
                        "Public and rate-limited. Every token gets a verdict: `status` is valid, "
                        "revoked, expired, invalid_signature, unknown_key or malformed; the "
                        "certificate's facts only when its signature held. Offline: "
                        "/.well-known/examsvc-keys.json and docs/certificates.md."
                    ),
                    "security": [],
                    "parameters": [
                        {"name": "token", "in": "path", "required": True, "schema": _TEXT}
                    ],
                    "responses": {
                        "200": {"description": "The verdict", "content": _json("Verification")},
                        "429": {
                            "description": "Too many requests; wait a minute",
                            "content": _json("Error"),
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
        },
    }
