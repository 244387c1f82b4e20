"""Façade: the recall services under one name for the entrypoints (API router, CLI, benchmarks).

Nothing is defined here; every name is re-exported explicitly from the room that owns it:

- ``recalls.cases``           cases (numbering, lifecycle) and targets
- ``recalls.runs``            trace runs: compute and persist, read back, diff
- ``recalls.actions``         actions: plan, lifecycle, carry out (one function per action type)
- ``recalls.communications``  notice drafting, manual recording
- ``recalls.status``          effectiveness (21 CFR 7.53 status-report figures)
- ``reports.recall_data``     the data the FSMA 204 export and the recall report show
- ``recalls.common``          lifecycle tables, time rules, how recall SQL runs

The flows that open their own transactions live in ``recalls.flows`` (``notify``, ``drill``).
New code may import the rooms directly; this module only keeps ``from lotline.recalls import
service`` working. Monkeypatch a function in its room, not here.
"""

from __future__ import annotations

from lotline.recalls.actions import (
    cancel_action,
    find_action,
    list_actions,
    plan_action,
    plan_all,
    run_action,
    start_action,
)
from lotline.recalls.cases import (
    activate,
    add_target,
    cancel,
    case_dict,
    cases_page,
    close,
    create_case,
    find_case,
    list_cases,
    list_targets,
    remove_target,
    update_case,
)
from lotline.recalls.common import ACTION_TRANSITIONS, CASE_TRANSITIONS, OPEN_ACTION
from lotline.recalls.communications import (
    draft_communications,
    find_communication,
    list_communications,
    record_communication,
    render_notice,
)
from lotline.recalls.runs import (
    RunSets,
    compute_run,
    diff_runs,
    find_run,
    latest_run,
    list_runs,
    run_lots,
    run_sets,
    run_shipments,
    shipment_lines,
)
from lotline.recalls.status import effectiveness
from lotline.reports.recall_data import report_data

__all__ = [
    # cases and targets
    "create_case",
    "find_case",
    "cases_page",
    "list_cases",
    "update_case",
    "activate",
    "close",
    "cancel",
    "add_target",
    "remove_target",
    "list_targets",
    "case_dict",
    # trace runs
    "compute_run",
    "latest_run",
    "find_run",
    "list_runs",
    "run_lots",
    "run_shipments",
    "RunSets",
    "run_sets",
    "shipment_lines",
    "diff_runs",
    # actions
    "plan_action",
    "plan_all",
    "find_action",
    "start_action",
    "cancel_action",
    "list_actions",
    "run_action",
    # communications
    "render_notice",
    "draft_communications",
    "find_communication",
    "record_communication",
    "list_communications",
    # status and report data
    "effectiveness",
    "report_data",
    # lifecycle tables
    "CASE_TRANSITIONS",
    "ACTION_TRANSITIONS",
    "OPEN_ACTION",
]
