"""Exporters: pure functions turning rows into CSV, XLSX, JSON and HTML (``recall_report``, ``xlsx``),
the FSMA 204 spreadsheet rendered by the database (``fsma204_export``), and beside them the one module
that gathers the recall report's data (``recall_data``; read-only, in the caller's transaction)."""
