"""The pure core of vidplat: entities, rules, use cases and the ports they need."""
