"""Entrypoints: the HTTP API, the SAQ worker and the command line."""
