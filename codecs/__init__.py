"""Wire formats: inbound channel payloads, internal event unions, dead letters.

Each channel module holds the msgspec Structs of that channel's payloads (field names as the
platform documents them, unknown fields ignored) and its normalizer: the anti-corruption
layer that maps the channel's shape onto the canonical model using the rules in
`orderstream.streams`. Decoders and encoders are built once, at module level, and reused.
"""
