"""Recalls: one module per concern, services that take a session and never commit.

``cases`` (cases and targets), ``runs`` (trace runs), ``actions`` (one function per action type),
``communications`` (notice drafting, manual recording), ``status`` (21 CFR 7.53 figures),
``common`` (lifecycle tables, time rules, how recall SQL runs); ``flows/`` holds the use cases that
open their own transactions (``notify``, ``drill``); ``service`` is a façade re-exporting the rooms.
The report and FSMA 204 data gathering lives beside its exporters in ``lotline.reports.recall_data``.
"""
