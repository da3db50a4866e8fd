"""S1..S8: each module measures one concern and returns rows of the table."""
