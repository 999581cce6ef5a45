"""gameday: safe, routine chaos engineering on Kubernetes."""

__version__ = "0.1.0"
