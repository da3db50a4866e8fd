"""Outbound calls to other people's servers."""
