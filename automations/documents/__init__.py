"""The document stage: every file an item brings, read to text before the engines run (PDF text layer,
OCR for scans and images, e-mails with their attachments, plain text, XML), and the use case's declared
text input fields filled from it."""
