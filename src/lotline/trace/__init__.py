"""Lot genealogy traces (forward, backward, as of a time), their SVG picture, and CSV rows."""
