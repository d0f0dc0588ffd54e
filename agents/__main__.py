"""`python -m orderstream.agents` runs the `orderstream` command."""

from .cli import main

main()
