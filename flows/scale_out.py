"""A send shared by the workers of a work pool: how many other workers there are, and the
``send-proposal-part`` runs that send-proposal starts for them through Prefect.

Which batch each run sends is decided in the database (council/store/batches.py), not here: a run
that starts late, or a slow machine, simply takes fewer batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.objects import WorkerStatus
from prefect.deployments import run_deployment
from prefect.runtime import flow_run
from prefect.states import Cancelled

log = logging.getLogger(__name__)

#: The deployment of flows/send_proposal.py:send_proposal_part (prefect.yaml).
PART_DEPLOYMENT = "send-proposal-part/send-proposal-part"


def other_workers() -> int:
    """How many workers of this flow run's work pool are online besides one (the one running it).
    0 outside a deployment's run (a test, or the flow called as a function)."""
    run_id = flow_run.get_id()
    if run_id is None:
        return 0
    with get_client(sync_client=True) as client:
        pool = client.read_flow_run(UUID(run_id)).work_pool_name
        if pool is None:
            return 0
        workers = client.read_workers_for_work_pool(pool)
    return max(sum(w.status == WorkerStatus.ONLINE for w in workers) - 1, 0)


@dataclass
class PartRuns:
    """The ``send-proposal-part`` runs of one shared send (flow run ids)."""

    ids: list[UUID]

    @classmethod
    def start(cls, campaign: str, count: int, proposal_id: str) -> PartRuns:
        """Create ``count`` runs of the part deployment, linked to this run as its subflows; any
        worker of the pool may pick them up."""
        ids = [
            run_deployment(
                PART_DEPLOYMENT, parameters={"esitys": proposal_id, "kampanja": campaign}, timeout=0
            ).id
            for _ in range(count)
        ]
        return cls(ids)

    def cancel_unstarted(self) -> None:
        """Cancel the runs no worker has started (every batch is taken, they have nothing to do)."""
        with get_client(sync_client=True) as client:
            for run_id in self.ids:
                state = client.read_flow_run(run_id).state
                if state is not None and (state.is_scheduled() or state.is_pending()):
                    client.set_flow_run_state(
                        run_id, Cancelled(message="Kaikki erät oli jo lähetetty"), force=True
                    )

    def all_ended(self) -> bool:
        with get_client(sync_client=True) as client:
            states = [client.read_flow_run(run_id).state for run_id in self.ids]
        return all(state is not None and state.is_final() for state in states)
