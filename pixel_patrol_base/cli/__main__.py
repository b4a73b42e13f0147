"""``python -m pixel_patrol_base.cli``: the same as the ``pixel-patrol`` command."""

import sys

from pixel_patrol_base.cli.entry import main

sys.exit(main())
