"""mosaic_kedro: the mosaic memory of large language models, as a Kedro project."""

__version__ = "0.1.0"
