"""Resumable uploads (tus 1.0.0): the upload's state, its byte segments, completion and expiry."""
