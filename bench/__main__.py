"""``python -m bench``: run every benchmark scenario (see bench/README.md)."""

import sys

from bench.run import main

sys.exit(main())
