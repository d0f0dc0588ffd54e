"""Sales-channel simulators: real HTTP servers on 127.0.0.1 with each channel's published shapes."""
