"""The pure domain core of orderstream.

Nothing in this package performs I/O, reads a clock, draws a random id or imports Faust,
Kafka, database or metrics libraries (an import-linter contract enforces it). Time and ids
arrive as arguments; functions take the previous state and an input and return an outcome.
"""
