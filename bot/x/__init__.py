"""The X side: the API client, the outbox of what Perch sends as the brand, and X's text rules."""
