"""State behind small typed ports: `table.Table` and its in-memory and Faust adapters."""
