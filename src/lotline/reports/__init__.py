"""Exporters: pure functions turning rows gathered by the services into CSV, XLSX, JSON and HTML."""
