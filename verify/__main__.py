"""``python -m verify ...`` is the same as ``betavae-audit ...``."""
from verify.cli import main

raise SystemExit(main())
