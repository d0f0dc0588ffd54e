"""Stand-ins for what the sinks talk to: real servers on 127.0.0.1 with each channel's
published shapes (sales channels over HTTP, an SMTP server), keeping what they receive."""
