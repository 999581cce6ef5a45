"""Kubernetes adapters: client construction, pod discovery and termination."""
