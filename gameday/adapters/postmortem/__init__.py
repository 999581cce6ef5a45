"""Postmortems and journal exports written out: JSON, Markdown and HTML (jinja2 templates)."""
