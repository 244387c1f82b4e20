"""Recall report rendering: pure functions over the gathered dict."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from lotline.reports import recall_report

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _data(n_lots: int = 2) -> dict:
    return {
        "case": {
            "id": uuid.uuid4(),
            "recall_number": "RC-2026-0007",
            "status": "active",
            "severity": "critical",
            "summary": "<script>alert(1)</script>",
            "notes": None,
            "initiated_at": T,
            "closed_at": None,
            "created_at": T,
            "updated_at": T,
        },
        "generated_at": T,
        "timeline": [{"at": T, "event": "recall initiated (active)"}],
        "targets": [
            {"target_type": "lot", "lot_code": "F-1", "sku": "FLOUR", "item_name": "Flour", "uom": "kg"}
        ],
        "trace_runs": [],
        "trace_run": {"id": uuid.uuid4(), "as_of": T, "computed_at": T, "notes": "direction=both"},
        "impacted_lots": [
            {
                "role": "downstream_finished",
                "lot_code": f"B-{i}",
                "sku": "BREAD",
                "item_name": "Bread",
                "status": "active",
                "on_hand": Decimal("5.500000"),
                "uom": "ea",
                "expires_at": None,
            }
            for i in range(n_lots)
        ],
        "impacted_customers": [
            {
                "customer_code": "ALPHA",
                "customer_name": "Alpha",
                "contact_email": "a@x",
                "products": [],
                "shipments": 1,
            }
        ],
        "actions": [],
        "communications": [],
        "effectiveness": {
            "customers_impacted": 1,
            "customers_notified": 0,
            "customers_failed": 0,
            "customers_not_notified": 1,
            "seconds_to_first_trace_run": 90061.0,
            "seconds_to_last_notice": None,
            "actions": {"planned": 0},
            "quantities": [
                {
                    "uom": "ea",
                    "impacted": Decimal(10),
                    "quarantined": Decimal(0),
                    "scrapped": Decimal(0),
                    "returned": Decimal(0),
                    "recovered": Decimal(0),
                    "recovered_pct": Decimal("0.0"),
                }
            ],
        },
    }


def test_html_escapes_user_text_and_formats_figures():
    html = recall_report.to_html(_data())
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "RC-2026-0007" in html and "5.5 ea" in html and "1 d 1 h 1 min" in html
    assert "2026-03-01 09:30 UTC" in html


def test_html_cuts_long_tables_and_says_where_the_rest_is():
    html = recall_report.to_html(_data(5), row_limit=3)
    assert "B-2" in html and "B-3" not in html and "2 more lots in the JSON report" in html


def test_json_is_plain_and_complete():
    doc = json.loads(recall_report.to_json(_data(5)))
    assert len(doc["impacted_lots"]) == 5 and doc["impacted_lots"][0]["on_hand"] == "5.5"
    assert doc["case"]["initiated_at"] == "2026-03-01T09:30:00+00:00"


def test_json_is_the_text_the_json_module_wrote():
    from datetime import date, timedelta, timezone

    from lotline.vocab import ActionStatus

    data = _data(5)
    data["effectiveness"]["actions"] = {ActionStatus.PLANNED: 3, ActionStatus.CANCELED: 0}
    data["effectiveness"]["seconds_to_first_trace_run"] = 12.345678
    data["extra"] = {
        "naive": datetime(2026, 3, 1, 9, 30, 0, 123456),
        "offset": datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
        "day": date(2026, 3, 1),
        "decimals": [Decimal("480.000000"), Decimal("-0.000"), Decimal("1E+3"), Decimal("0.000100")],
        "text": 'é "quoted" \\ back\nline\ttab\x01\x7f\u2028 😀',
        "flags": [True, False, None],
        "numbers": [0, -7, 2**63 - 1, 0.1, 1e16, 86400.5],
    }
    assert recall_report.to_json(data) == recall_report._json_dumps(data)


def test_json_falls_back_to_the_json_module_for_what_orjson_refuses():
    data = _data(1)
    data["big"] = 2**70  # beyond 64 bits
    assert recall_report.to_json(data) == recall_report._json_dumps(data)
    assert json.loads(recall_report.to_json(data))["big"] == 2**70
