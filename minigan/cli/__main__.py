"""``python -m minigan.cli`` is the ``minigan`` command."""

import sys

from . import main

sys.exit(main())
