"""Entry point for ``python -m octoserve``."""
from octoserve.cli import main

main()
