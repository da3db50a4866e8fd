"""`python -m bench [quick]`: vidplat's production wiring measured side by side with nginx and /health."""
