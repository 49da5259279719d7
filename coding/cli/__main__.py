"""`python -m coding.cli ...`, as the `coding` command."""

import sys

from coding.cli import main

sys.exit(main())
