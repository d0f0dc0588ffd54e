"""The sinks: what orderstream decides, delivered outside, each effect once per event."""
