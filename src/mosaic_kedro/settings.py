"""Project settings.

- parameters merge *softly* across environments, so a ``conf/local`` file that
  overrides one key of a block keeps the block's other keys;
- ``data_root`` is a global every catalog path starts from (``conf/base/globals.yml``);
- telemetry is off (``.telemetry`` holds ``consent: false``; ``KEDRO_DISABLE_TELEMETRY``
  is exported by the Makefile as well);
- a failed command ends with its cause and advice (:mod:`mosaic_kedro.errors`);
- no per-load progress bars from transformers (``HF_HUB_DISABLE_PROGRESS_BARS``).
"""

import os
import warnings

from mosaic_kedro.errors import install_excepthook
from mosaic_kedro.hooks import GridHooks, TrackingHooks

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
# transformers drew a "Loading weights" / "Writing model shards" progress bar on every
# model load and save (4 per condition, mid-log); the node lines already say it.
# HF_HUB_DISABLE_PROGRESS_BARS=0 brings them back (e.g. for a long download).
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

install_excepthook()
# Two warnings every run printed, neither actionable here: Kedro 1.7's own config
# loader calls OmegaConf's deprecated register_new_resolver, and the gathering nodes
# read namespaced outputs (`<condition>.mia_scores`) by their dotted names on purpose.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
warnings.filterwarnings("ignore", message=r"One or more dataset names contain '\.'")

HOOKS = (GridHooks(), TrackingHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
