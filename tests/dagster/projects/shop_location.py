"""The shop project as a code location and as a run worker, for runs that must run outside
the test's process (to be terminated, as a run launcher's worker is) or be created the way
Dagster's UI and run retries create re-executions (``instance.create_reexecuted_run`` on a
loaded code location, which writes the ``dagster/parent_run_id`` and ``dagster/root_run_id``
tags).

The project and the DuckDB file come from ``SHOP_PROJECT_DIR`` and ``SHOP_DUCKDB_PATH``.
``python -m tests.dagster.projects.shop_location [ASSET ...]`` runs ``shop_job`` (those of
its assets, or all) against ``$DAGSTER_HOME``'s instance, in this process (in-process
executor), and exits.
"""

import os
import sys
from pathlib import Path

import dagster as dg

from tests.dagster.projects import shop

PROJECT_DIR_VARIABLE = "SHOP_PROJECT_DIR"
#: the run worker's run config: every step in the worker's own process
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@dg.definitions
def defs() -> dg.Definitions:
    return shop.build_definitions(
        Path(os.environ[PROJECT_DIR_VARIABLE]),
        Path(os.environ[shop.DUCKDB_PATH_VARIABLE]),
        [],
        fetch_metadata=False,
    )


def shop_job() -> dg.JobDefinition:
    return defs().resolve_job_def("shop_job")


if __name__ == "__main__":
    with dg.DagsterInstance.get() as instance:
        dg.execute_job(
            dg.reconstructable(shop_job),
            instance=instance,
            run_config=IN_PROCESS,
            asset_selection=[dg.AssetKey.from_user_string(key) for key in sys.argv[1:]] or None,
        )
