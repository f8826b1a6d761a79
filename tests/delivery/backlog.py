"""Thousands of finished runs, made cheaply: run records plus their run-status events,
written straight to the instance's storages (no execution, no per-run job snapshot)."""

from __future__ import annotations

import time
import uuid

import dagster as dg

from tests.delivery.jobs import tiny_job


def make_failed_runs(instance: dg.DagsterInstance, count: int) -> list[str]:
    template = instance.create_run_for_job(tiny_job)
    instance.report_run_failed(template)
    run_ids = [template.run_id]
    for _ in range(count - 1):
        run = instance.add_run(
            template.with_status(dg.DagsterRunStatus.NOT_STARTED)._replace(run_id=str(uuid.uuid4()))
        )
        instance.report_run_failed(run)
        run_ids.append(run.run_id)
    return run_ids


if __name__ == "__main__":
    with dg.instance_for_test() as inst:
        t = time.time()
        make_failed_runs(inst, 100)
        print((time.time() - t) / 100)
