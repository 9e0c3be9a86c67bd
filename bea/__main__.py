"""``python -m bea`` runs the ``bea`` command."""

import sys

from .cli import main

sys.exit(main())
