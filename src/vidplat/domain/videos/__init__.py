"""The video catalog: upload processing, editing, soft delete and restore."""
