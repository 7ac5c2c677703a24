"""The Slack side: the paced Web API client, who may do what, delivery, and the ids Perch uses."""
