"""Everything that exercises the product and is not it: the load generator, the bench, the
chaos campaign and its verdict, the demo harness. `orderstream.agents` never imports it; its
commands reach the CLI through the `orderstream.commands` entry points."""
