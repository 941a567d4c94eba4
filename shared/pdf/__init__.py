"""PDF documents people keep: the session summary and the evidence pack (fpdf2, Unicode fonts, text shaping)."""
