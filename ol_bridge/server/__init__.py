"""``ol-bridge serve``: an OpenLineage receiver that writes to DataHub and relays onward.

Needs the ``server`` extra (``pip install 'ol-bridge[server]'``; ``[kafka]`` too for
``--source kafka``). See ``docs/server.md``.
"""

from __future__ import annotations

from ol_bridge.server.config import KafkaSourceConfig, ServerConfig, load_config

__all__ = ["KafkaSourceConfig", "ServerConfig", "load_config"]
