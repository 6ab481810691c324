"""The ``pleo-export`` command line (stdlib argparse; no extra dependencies).

``main`` is the console script. ``python -m pleo_export._cli`` runs the same thing.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
