"""``python -m eabench`` runs the command line."""

from __future__ import annotations

from eabench.cli import main

raise SystemExit(main())
