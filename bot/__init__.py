"""Perch: a Slack app that turns a brand's X mentions into a customer-service queue."""

__version__ = "0.1.0"
