"""Test helpers: stand-in peers and a client for driving real worker processes."""
