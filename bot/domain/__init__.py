"""Domain rules with no I/O: triage, location detection, locations, report arguments, topics."""
