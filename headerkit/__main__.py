"""``python -m headerkit``: the command line."""

import sys

from headerkit.cli import main

sys.exit(main())
