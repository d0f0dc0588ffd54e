"""Sinks: what orderstream decides, sent to sales channels, locations and customers."""
