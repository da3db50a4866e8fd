"""Background work on SAQ (Redis): the job queue port and the worker's job functions."""
