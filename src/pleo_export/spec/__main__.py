"""``python -m pleo_export.spec OLD NEW``: the spec diff report."""

import sys

from ._cli import main

sys.exit(main())
