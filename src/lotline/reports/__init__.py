"""Exporters: pure functions turning rows into CSV, XLSX, JSON and HTML (``fsma204``,
``recall_report``, ``xlsx``), and beside them the one module that gathers those rows from the
database for the recall exports (``recall_data``; read-only, in the caller's transaction)."""
