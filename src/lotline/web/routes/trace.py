"""Trace view: direction, as-of, max depth; the genealogy graph; shipments and customers; downloads."""

from __future__ import annotations

import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from lotline import db
from lotline.epcis import export as epcis_export
from lotline.errors import InvalidInput, LotlineError
from lotline.lots import service as lots
from lotline.reports import files, fsma204_export, xlsx
from lotline.trace import export, svg
from lotline.trace import service as trace
from lotline.web import graph
from lotline.web.context import FORM_ERROR, Ctx, Page, need, utc_text

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
TABLE_PAGE = 100
DOWNLOADS = ("csv", "svg", "json", "fsma204.csv", "fsma204.xlsx", "epcis.json")


def _asked(s, ref: str, as_of: str, max_depth: str):
    """The lot, as-of time and depth a trace form asks for (InvalidInput naming a bad one)."""
    lot = lots.find_lot(s, ref)
    depth = int(max_depth) if max_depth.strip().lstrip("-").isdigit() else None
    if max_depth.strip() and depth is None:
        raise InvalidInput(f"max depth must be a whole number, got {max_depth!r}", field="max_depth")
    return lot, trace.parse_as_of(utc_text(as_of)), depth


def _budget(nodes: str) -> int:
    """The graph's node budget the form asks for (empty: the default)."""
    low, high = graph.BUDGET_RANGE
    if not nodes.strip():
        return graph.BUDGET
    if not nodes.strip().isdigit() or not low <= int(nodes) <= high:
        raise InvalidInput(f"graph nodes must be a whole number from {low} to {high}, got {nodes!r}", field="nodes")
    return int(nodes)


def _run(s, ref: str, direction: str, as_of: str, max_depth: str, *, with_stock: bool = False):
    lot, when, depth = _asked(s, ref, as_of, max_depth)
    return lot, trace.trace(s, [lot.id], direction, when, depth, with_stock=with_stock)


@router.get("/trace/{ref}")
def trace_page(ctx: Read, ref: str, direction: str = "forward", as_of: str = "", max_depth: str = "",
               nodes: str = "", tab: str = "shipments"):
    params = {"direction": direction, "as_of": as_of, "max_depth": max_depth, "nodes": nodes}
    with db.read_snapshot() as s:
        lot = lots.find_lot(s, ref)
        try:
            budget = _budget(nodes)
            lot, result = _run(s, ref, direction, as_of, max_depth)
        except LotlineError as exc:
            return ctx.render("trace.html", status_code=FORM_ERROR, lot=lot, params=params, error=exc.message,
                              result=None, graph_json="null", page=None, customers=[], shipments=[], tab=tab)
        page = Page(ctx.request, TABLE_PAGE)
        customers = sorted({(x.customer_code, x.customer_name) for x in result.shipments})
        page.total = len(customers) if tab == "customers" else len(result.lots) if tab == "lots" else len(result.shipments)
        data = graph.elements(result, budget=budget)
        return ctx.render(
            "trace.html", lot=lot, params=params, error=None, result=result, tab=tab, page=page,
            shipments=result.shipments[page.offset:page.offset + page.size] if tab == "shipments" else [],
            customers=customers[page.offset:page.offset + page.size] if tab == "customers" else [],
            n_customers=len(customers),
            graph_json=json.dumps(data).replace("</", "<\\/"),
        )


@router.get("/trace/{ref}/graph.json")
def trace_graph(ctx: Read, ref: str, direction: str = "forward", as_of: str = "", max_depth: str = "",
                nodes: str = "", expand: Annotated[list[str], Query()] = []):  # noqa: B006 - FastAPI query list default
    budget = _budget(nodes)
    with db.read_snapshot() as s:
        _lot, result = _run(s, ref, direction, as_of, max_depth)
    return JSONResponse(graph.elements(result, expand=set(expand), budget=budget))


def _attachment(content, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": files.content_disposition(filename)})


@router.get("/trace/{ref}/download.{fmt}")
def trace_download(ctx: Read, ref: str, fmt: str, direction: str = "forward", as_of: str = "", max_depth: str = ""):
    """The trace as CSV, SVG or JSON; as the FSMA 204 sortable spreadsheet (``fsma204.csv``/``fsma204.xlsx``);
    as one EPCIS 2.0 document (``epcis.json``, with the traced lots' ancestors, as ``lotline epcis export``)."""
    if fmt not in DOWNLOADS:
        return Response(f"unknown download format {fmt!r}; one of {', '.join(DOWNLOADS)}", status_code=404,
                        media_type="text/plain")
    with db.read_snapshot() as s:
        if fmt == "epcis.json":  # the export traces by itself (and adds the lots' ancestors)
            lot, when, depth = _asked(s, ref, as_of, max_depth)
            content = json.dumps(epcis_export.export_lots(s, [lot.id], trace.validate_direction(direction), when,
                                                          max_depth=depth))
        else:
            lot, result = _run(s, ref, direction, as_of, max_depth, with_stock=fmt in ("csv", "json"))
        code = lot.lot_code  # read inside the snapshot: the lot is detached after it
        if fmt.startswith("fsma204."):
            done = fsma204_export.export(s, fsma204_export.trace_sources(result), csv=fmt == "fsma204.csv",
                                         xlsx=fmt == "fsma204.xlsx", title=f"FSMA 204 trace of {code}")
    name = files.safe_name(f"trace-{direction}-{code}", fallback="trace")
    if fmt == "epcis.json":
        return _attachment(content, "application/ld+json", f"{name}-epcis.json")
    if fmt == "csv":
        buf = io.StringIO()
        export.write_csv(result, buf)
        return _attachment(buf.getvalue(), "text/csv", f"{name}.csv")
    if fmt == "svg":
        return _attachment(svg.render_svg(result, title=f"{direction} trace of {code}"), "image/svg+xml",
                           f"{name}.svg")
    if fmt == "json":
        return _attachment(json.dumps(result.to_json()), "application/json", f"{name}.json")
    if fmt == "fsma204.csv":
        return _attachment(done.csv, "text/csv; charset=utf-8", f"{name}-fsma204.csv")
    return _attachment(done.xlsx, xlsx.MEDIA_TYPE, f"{name}-fsma204.xlsx")
