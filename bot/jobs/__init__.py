"""Scheduled jobs: ingest, post, surge grouping, reminders, SLA, bulk replies, digest, health."""
