"""``python -m auxdet`` — the ``auxdet`` command line (see :mod:`auxdet.cli`)."""

import sys

try:
    from auxdet.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing started yet
    print("auxdet: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
