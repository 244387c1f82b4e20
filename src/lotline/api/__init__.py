"""HTTP API (FastAPI): thin routes over the services; OpenAPI at /docs and /openapi.json."""
