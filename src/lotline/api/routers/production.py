"""Work order endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from lotline.api import pagination
from lotline.api.deps import ReadSession, RetryingRoute, WriteSession, require
from lotline.api.pagination import PAGED, CursorQ, LimitQ, Page
from lotline.api.schemas import ExecutionOut, WorkOrderOut, WorkOrderRow
from lotline.inventory import queries
from lotline.production import service
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.serialize import to_jsonable

router = APIRouter(tags=["production"], route_class=RetryingRoute)  # postings retry conflicts


def _wo_out(wo) -> dict:
    return to_jsonable(
        {"id": wo.id, "number": wo.number, "item_id": wo.item_id, "planned_quantity": wo.planned_quantity, "uom": wo.uom, "status": wo.status}
    )


@router.post("/work-orders", status_code=status.HTTP_201_CREATED, dependencies=[require("production.write")],
             response_model=WorkOrderOut)
def create_work_order(data: WorkOrderIn, session: WriteSession) -> dict:
    return _wo_out(service.create_work_order(session, data))


@router.get("/work-orders", dependencies=[require("read")], response_model=Page[WorkOrderRow], responses=PAGED)
def list_work_orders(request: Request, response: Response, session: ReadSession,
                     limit: LimitQ = pagination.DEFAULT_LIMIT, cursor: CursorQ = None) -> dict:
    """Work orders by number."""
    page = service.work_orders_page(session, limit=limit, after=pagination.decode("work-orders", cursor))
    return pagination.respond(request, response, "work-orders", [{**_wo_out(wo), "sku": sku} for wo, sku in page.rows],
                              page)


@router.post("/work-orders/{ref}/executions", status_code=status.HTTP_201_CREATED, dependencies=[require("production.write")],
             response_model=ExecutionOut, responses={200: {"description": "Replayed", "model": ExecutionOut}})
def execute(ref: str, data: ExecutionIn, session: WriteSession, response: Response) -> dict:
    """Consume and produce together; writes lot links and genealogy."""
    done = service.execute(session, ref, data)
    if done.replayed:
        response.status_code = status.HTTP_200_OK
    movements = [queries.movement_detail(session, p.movement.id) for p in (done.consumed, done.produced) if p]
    return to_jsonable({"execution_id": done.execution.id, "replayed": done.replayed, "movements": movements})


@router.post("/work-orders/{ref}/close", dependencies=[require("production.write")], response_model=WorkOrderOut)
def close(ref: str, session: WriteSession) -> dict:
    return _wo_out(service.set_status(session, service.find_work_order(session, ref, lock=True), "closed"))
