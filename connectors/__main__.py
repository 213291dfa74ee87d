"""``python -m connectors SOURCE PATH... --to-file OUT.jsonl``: the ``connect`` subcommand on its own."""

import sys

from connectors.cli import main

sys.exit(main())
