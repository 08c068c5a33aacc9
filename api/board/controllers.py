"""``GET /api/v1/board``: the supervisor's board, read once; the board topic keeps it live afterwards."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.board.schemas import Board
from api.board.services import read_board
from api.deps import DbSession
from api.workplaces.base import utc_now


class BoardController(Controller):
    path = "/api/v1/board"
    tags = ["board"]
    guards = [requires(Permission.BOARD_READ)]

    @get("/", operation_id="ReadBoard")
    async def read(
        self,
        db_session: DbSession,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only this workplace.")] = None,
        department_id: Annotated[UUID | None, QueryParameter(description="Only this department's workplaces.")] = None,
    ) -> Board:
        """Per active workplace: who is clocked in, who is late, open incidents and overdue tasks.

        Then subscribe to ``t:<tenant>:board`` (a supervisor's socket has it from the start) for
        ``board.*`` events. Errors: ``404 not_found`` for a workplace or department not in the tenant.
        """
        return await read_board(db_session, now=utc_now(), workplace_id=workplace_id, department_id=department_id)
