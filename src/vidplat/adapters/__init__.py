"""Adapters: the ports of the domain implemented on real technology."""
