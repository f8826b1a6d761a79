"""A model that holds its dbt run until the test lets it go, so that the test can end the
Dagster run while dbt is running it: with ``SHOP_HOLD_DIR`` set, it writes ``started``
there and waits for ``released`` (at most two minutes); without, it builds at once."""

import os
import time
from pathlib import Path


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("raw_customers")
    hold = os.environ.get("SHOP_HOLD_DIR")
    if hold:
        (Path(hold) / "started").touch()
        for _ in range(1200):
            if (Path(hold) / "released").exists():
                break
            time.sleep(0.1)
    return customers
