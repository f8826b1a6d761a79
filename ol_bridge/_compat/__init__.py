"""Other libraries' internals that ol-bridge relies on, each kept in one place.

ol-bridge uses other libraries' public APIs. Where a library has none for something
ol-bridge needs, the private name is used here and nowhere else, one module per library,
and ``tests/test_compat.py`` checks each of them against the installed version, so an
upgrade that changes one fails by name instead of somewhere deep in a tick.

- :mod:`ol_bridge._compat.datahub`: acryl-datahub's aspect base class, avrogen's conversion
  without validation, and closing DataHub Lite without its whole-store reindex.
- :mod:`ol_bridge._compat.dagster`: the format of Dagster's event-log storage cursors and
  how to tell a SQLite run storage.
"""
