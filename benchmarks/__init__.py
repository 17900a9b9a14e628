"""`make bench`: cold-import ratios and DynamoDB calls per request (a report, not a test)."""
