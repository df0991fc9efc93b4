"""``python -m verify ...`` is the same as ``betavae-audit ...``."""
from verify.cli import main

if __name__ == "__main__":     # a worker process (verify.derivation) imports this module too
    raise SystemExit(main())
