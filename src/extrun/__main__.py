"""``python -m extrun``."""

import sys

from extrun.cli import main

sys.exit(main())
