"""The HTTP API for automation under /api/v1, with token authentication and OpenAPI."""
