"""`python -m blueprint`: the same entry point as the console script."""
import sys

from blueprint.cli import main

sys.exit(main())
