"""The ``ol-bridge demo``: example Dagster definitions run on a temporary instance."""
