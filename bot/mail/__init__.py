"""E-mail: composing outgoing mails, reading the mailing list's mails (IMAP), their state."""
