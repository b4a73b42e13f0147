"""Entry file of the PixelPatrol Streamlit viewer: it only configures the page and routes.

Started by ``pixel-patrol view`` / ``api.view`` as
``streamlit run viewer/app.py -- --report PATH --state QUERY``. Everything else lives in
the ``pp_viewer`` package next to this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pp_viewer.main import main

main(sys.argv[1:])
