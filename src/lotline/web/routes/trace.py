"""Trace view: direction, as-of, max depth; the genealogy graph; shipments and customers; downloads."""

from __future__ import annotations

import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from lotline import db
from lotline.errors import InvalidInput, LotlineError
from lotline.lots import service as lots
from lotline.trace import export, svg
from lotline.trace import service as trace
from lotline.web import graph
from lotline.web.context import FORM_ERROR, Ctx, Page, need, utc_text

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
TABLE_PAGE = 100


def _run(s, ref: str, direction: str, as_of: str, max_depth: str, *, with_stock: bool = False):
    lot = lots.find_lot(s, ref)
    depth = int(max_depth) if max_depth.strip().lstrip("-").isdigit() else None
    if max_depth.strip() and depth is None:
        raise InvalidInput(f"max depth must be a whole number, got {max_depth!r}", field="max_depth")
    result = trace.trace(s, [lot.id], direction, trace.parse_as_of(utc_text(as_of)), depth, with_stock=with_stock)
    return lot, result


@router.get("/trace/{ref}")
def trace_page(ctx: Read, ref: str, direction: str = "forward", as_of: str = "", max_depth: str = "",
               tab: str = "shipments"):
    params = {"direction": direction, "as_of": as_of, "max_depth": max_depth}
    with db.read_snapshot() as s:
        lot = lots.find_lot(s, ref)
        try:
            lot, result = _run(s, ref, direction, as_of, max_depth)
        except LotlineError as exc:
            return ctx.render("trace.html", status_code=FORM_ERROR, lot=lot, params=params, error=exc.message,
                              result=None, graph_json="null", page=None, customers=[], shipments=[], tab=tab)
        page = Page(ctx.request, TABLE_PAGE)
        customers = sorted({(x.customer_code, x.customer_name) for x in result.shipments})
        page.total = len(customers) if tab == "customers" else len(result.lots) if tab == "lots" else len(result.shipments)
        data = graph.elements(result)
        return ctx.render(
            "trace.html", lot=lot, params=params, error=None, result=result, tab=tab, page=page,
            shipments=result.shipments[page.offset:page.offset + page.size] if tab == "shipments" else [],
            customers=customers[page.offset:page.offset + page.size] if tab == "customers" else [],
            n_customers=len(customers),
            graph_json=json.dumps(data).replace("</", "<\\/"),
        )


@router.get("/trace/{ref}/graph.json")
def trace_graph(ctx: Read, ref: str, direction: str = "forward", as_of: str = "", max_depth: str = "",
                expand: Annotated[list[str], Query()] = []):  # noqa: B006 - FastAPI query list default
    with db.read_snapshot() as s:
        _lot, result = _run(s, ref, direction, as_of, max_depth)
    return JSONResponse(graph.elements(result, expand=set(expand)))


@router.get("/trace/{ref}/download.{fmt}")
def trace_download(ctx: Read, ref: str, fmt: str, direction: str = "forward", as_of: str = "", max_depth: str = ""):
    with db.read_snapshot() as s:
        lot, result = _run(s, ref, direction, as_of, max_depth, with_stock=fmt in ("csv", "json"))
        code = lot.lot_code
    name = f"trace-{direction}-{code}"
    if fmt == "csv":
        buf = io.StringIO()
        export.write_csv(result, buf)
        return Response(buf.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "svg":
        return Response(svg.render_svg(result, title=f"{direction} trace of {code}"), media_type="image/svg+xml",
                        headers={"Content-Disposition": f'attachment; filename="{name}.svg"'})
    if fmt == "json":
        return JSONResponse(result.to_json(), headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return Response(f"unknown download format {fmt!r}; csv, svg or json", status_code=404, media_type="text/plain")
