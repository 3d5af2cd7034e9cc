"""The loyalty program backend: everything app.py wires together."""
