"""``python -m auxdet`` — the ``auxdet`` command line (see :mod:`auxdet.cli`)."""

import sys

from auxdet.cli import main

sys.exit(main())
