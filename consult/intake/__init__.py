"""Comments by e-mail: messages received (SMTP receiver or IMAP fetch) wait in an intake
queue until the secretariat confirms the organisation and the paragraph; then each becomes
a comment entered on behalf (channel e-mail) with its attachments, or is rejected with a
reason. Nothing received by mail is published directly.

- parse.py: reading a message (pure functions): addresses, paragraph number, quoted text,
  loops, SPF/DKIM results, attachments.
- service.py: receiving (store the raw bytes, content-addressed, and queue), confirming,
  rejecting, the acknowledgment mail.
- smtp.py: the aiosmtpd receiver (`flask --app consult mail-in`); imap.py: `mail-fetch`.
- routes.py: the secretariat's intake page.
"""
