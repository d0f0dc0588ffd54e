"""State behind small typed ports: `table.Table` and its in-memory and Faust adapters, and
in `tables` the stored form (key and value codecs) of the order and SKU tables."""
