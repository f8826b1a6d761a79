"""``ol-bridge doctor``: check a configuration end to end and say exactly what to fix.

The OpenLineage client is the real one (``OpenLineageClient()``, as the sensor builds it),
split into destinations as the sensor's delivery splits it; each destination gets a real,
time-boxed check; then the Dagster instance in ``DAGSTER_HOME``: its storage, where
pending events live and whether that is durable, and whether an ol-bridge sensor runs.

Modules: ``model`` (the check record, rendering), ``client`` (the client and ignored
settings), ``http`` and ``destinations`` (per destination), ``instance`` (storage and
``pending_events_location``), ``sensors`` (sensor states and ticks), ``run`` (all of them).
Nothing is imported here, so ``ol-bridge doctor --help`` stays light.
"""
