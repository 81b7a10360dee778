"""``python -m mlpcore``: the command line (see mlpcore.cli)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
