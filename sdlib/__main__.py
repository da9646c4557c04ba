"""`python -m sdlib` is the `tokenworld` command."""

import sys

from sdlib.cli import main

sys.exit(main())
