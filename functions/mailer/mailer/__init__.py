"""The mailer: sends the mail queue's messages through SES v2 at the account's rate, and follows what SES reports."""
