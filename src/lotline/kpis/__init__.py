"""Inventory KPI runs (turns, days of inventory, fill rates) with exact roll-ups."""
