"""S13: the same requests at a small and a large size of data, seeded straight into PostgreSQL."""
