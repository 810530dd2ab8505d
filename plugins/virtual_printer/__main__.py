"""`python -m octoserve_plugins.virtual_printer --link PATH`: the standalone mode without the CLI."""
import sys

from . import main

sys.exit(main())
