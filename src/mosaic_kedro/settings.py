"""Project settings.

- parameters merge *softly* across environments, so a ``conf/local`` file that
  overrides one key of a block keeps the block's other keys;
- ``data_root`` is a global every catalog path starts from (``conf/base/globals.yml``);
- telemetry is off (``.telemetry`` holds ``consent: false``; ``KEDRO_DISABLE_TELEMETRY``
  is exported by the Makefile as well).
"""

import os

from mosaic_kedro.hooks import GridHooks

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

HOOKS = (GridHooks(),)

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
