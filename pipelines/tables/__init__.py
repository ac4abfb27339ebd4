"""Publication tables: small-cell suppression and CSV / Markdown / LaTeX export."""
