"""lotline: lot traceability, recalls and inventory KPIs on PostgreSQL."""
