"""HTTP API (FastAPI): thin routes over the services; OpenAPI at /api/v1/docs and /api/v1/openapi.json."""
