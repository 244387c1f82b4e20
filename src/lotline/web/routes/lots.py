"""Lot search (as you type) and the lot page: details, status history, on hand, ledger, mass balance, actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from lotline import db
from lotline.audit import service as audit
from lotline.errors import LotlineError
from lotline.lots import service as lots
from lotline.lots.schemas import LotStatusChange
from lotline.models import Item
from lotline.recalls import service as recalls
from lotline.recalls.schemas import CaseIn, TargetIn
from lotline.trace import service as trace
from lotline.vocab import LotStatus
from lotline.web import queries
from lotline.web import session as web_session
from lotline.web.context import FORM_ERROR, Ctx, FormErrors, Page, need

router = APIRouter()
Read = Annotated[Ctx, Depends(need("read"))]
LEDGER_PAGE = 50


@router.get("/lots")
def lot_search_page(ctx: Read, q: str = "", status: str = ""):
    with db.read_snapshot() as s:
        results, error = _search(s, q, status)
    return ctx.render("lots.html", q=q, status=status, results=results, error=error)


@router.get("/lots/search")
def lot_search(ctx: Read, q: str = "", status: str = ""):
    """The results partial (htmx swaps it into #results as the user types)."""
    with db.read_snapshot() as s:
        results, error = _search(s, q, status)
    return ctx.render("partials/lot_results.html", q=q, results=results, error=error)


def _search(s, q: str, status: str):
    try:
        rows = queries.search_lots(s, q, limit=50)
    except LotlineError as exc:
        return [], exc.message
    if status:
        rows = [r for r in rows if r["status"] == status]
    return rows, None


def _lot_page(ctx: Ctx, s, lot, *, errors=None, form=None, status_code=200):
    item = s.get(Item, lot.item_id)
    page = Page(ctx.request, LEDGER_PAGE)
    ledger, page.more = queries.lot_ledger(s, lot.id, offset=page.offset, limit=page.size)
    result = trace.trace(s, [lot.id], "forward", max_depth=0, with_stock=True)
    return ctx.render(
        "lot.html",
        status_code=status_code,
        lot=lot,
        item=item,
        on_hand=lots.on_hand(s, lot_id=lot.id),
        ledger=ledger,
        page=page,
        balance=result.mass_balance[0] if result.mass_balance else None,
        next_statuses=sorted(lots.STATUS_TRANSITIONS[lot.status]),
        history=audit.lot_status_history(s, lot.id),
        errors=errors or {},
        form=form or {},
    )


@router.get("/lots/{ref}")
def lot_page(ctx: Read, ref: str):
    with db.read_snapshot() as s:
        return _lot_page(ctx, s, lots.find_lot(s, ref))


@router.get("/lots/{ref}/ledger")
def lot_ledger(ctx: Read, ref: str):
    with db.read_snapshot() as s:
        lot = lots.find_lot(s, ref)
        page = Page(ctx.request, LEDGER_PAGE)
        ledger, page.more = queries.lot_ledger(s, lot.id, offset=page.offset, limit=page.size)
        return ctx.render("partials/ledger.html", lot=lot, ledger=ledger, page=page)


@router.post("/lots/{ref}/status")
def change_status(
    ctx: Annotated[Ctx, Depends(need("lot.status"))],
    ref: str,
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    sig_password: Annotated[str, Form()] = "",
    sig_meaning: Annotated[str, Form()] = "approved",
):
    form = {"status": status, "reason": reason}
    try:
        with db.transaction() as s:
            lot = lots.find_lot(s, ref)
            release = lot.status in (LotStatus.QUARANTINE, LotStatus.BLOCKED) and status == LotStatus.ACTIVE
            # releasing a held lot is a signed act: the service checks the password again
            signed = web_session.signature_of(sig_password, sig_meaning) if release else None
            change = LotStatusChange(status=status, reason=reason or None, signature=signed)
            lots.change_status(s, lot, change)
            lot_id = lot.id
    except (LotlineError, ValidationError) as exc:
        errors = FormErrors.of(exc, {"status": "status", "reason": "reason", "lot_code": "status"})
        if isinstance(exc, web_session.SignatureRefused):
            errors = FormErrors({"sig_password": exc.message})
        with db.read_snapshot() as s:
            return _lot_page(ctx, s, lots.find_lot(s, ref), errors=errors, form=form, status_code=FORM_ERROR)
    return RedirectResponse(f"/lots/{lot_id}", status_code=303)


@router.post("/lots/{ref}/recall")
def start_recall(
    ctx: Annotated[Ctx, Depends(need("recall.write"))],
    ref: str,
    severity: Annotated[str, Form()] = "high",
    summary: Annotated[str, Form()] = "",
):
    """A draft recall case targeting this lot; the recall room takes it from there."""
    try:
        with db.transaction() as s:
            lot = lots.find_lot(s, ref)
            case = recalls.create_case(s, CaseIn(severity=severity, summary=summary or None))
            recalls.add_target(s, case.id, TargetIn(lot=str(lot.id)))
            number = case.recall_number
    except (LotlineError, ValidationError) as exc:
        with db.read_snapshot() as s:
            return _lot_page(ctx, s, lots.find_lot(s, ref), errors=FormErrors.of(exc, {"severity": "severity", "summary": "summary"}),
                             form={"severity": severity, "summary": summary}, status_code=FORM_ERROR)
    return RedirectResponse(f"/recalls/{number}", status_code=303)
