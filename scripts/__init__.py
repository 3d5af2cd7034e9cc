"""Runnable helpers: ``python -m scripts.NAME --help``."""
