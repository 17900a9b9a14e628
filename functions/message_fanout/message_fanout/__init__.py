"""The message fan-out: a send's recipients resolved page by page, its delivery records, inbox messages and
external deliveries (email, SMS, webhook), each written or sent once however often an event is retried."""
