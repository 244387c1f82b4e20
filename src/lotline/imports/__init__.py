"""Spreadsheet (CSV/XLSX) imports of master data and postings."""
