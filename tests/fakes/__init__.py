"""Fakes of outside systems: real HTTP servers on 127.0.0.1."""
