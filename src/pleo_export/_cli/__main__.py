"""``python -m pleo_export._cli``: the same as the ``pleo-export`` console script."""

from . import main

raise SystemExit(main())
