"""What runs orderstream's services: the embedded stack for laptops, tests and the demo.
`orderstream.agents` never imports it; `orderstream dev` reaches the CLI through the
`orderstream.commands` entry points."""
